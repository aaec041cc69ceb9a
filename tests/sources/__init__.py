"""Tests of reconciler.sources."""
