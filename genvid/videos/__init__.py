"""genvid videos."""
