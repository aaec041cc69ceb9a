"""destinations layer."""
