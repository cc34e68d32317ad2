"""Benchmarks: ``python -m bench --scale quick|full|N`` (see docs/benchmarks.md)."""
