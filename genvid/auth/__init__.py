"""genvid auth."""
