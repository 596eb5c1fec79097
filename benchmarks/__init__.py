"""Benchmarks of the release engine; run from the repository root as `python -m benchmarks.run`."""
