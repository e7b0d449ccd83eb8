"""Benchmarks for citebot: `python -m bench --help`. Kept out of the test suite's timing."""
