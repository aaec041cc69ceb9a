"""Benchmarks of the reconciler's hot paths, run by hand (`python -m bench.plan`), never by CI.

Each benchmark builds its synthetic data once in a temporary directory, runs the real code
path in fresh processes (so peak memory is per measurement) and writes nothing elsewhere.
"""
