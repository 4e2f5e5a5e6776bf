"""Benchmarks of stream-scorer's scoring stage against the field's patterns.

Run with `python -m bench.run`; see bench/README.md.
"""
