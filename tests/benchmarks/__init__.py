"""Benchmarks: `python -m tests.benchmarks [--quick]`. Not part of the test run."""
