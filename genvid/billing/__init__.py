"""genvid billing."""
