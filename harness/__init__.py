"""Helpers that tests, benchmarks and scripts share."""
