"""Tests of reconciler.state."""
