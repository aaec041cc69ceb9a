"""executing layer."""
