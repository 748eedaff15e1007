"""bwhelpers benchmarks: ``python -m bench`` (see bench/run.py and bench/results.md)."""
