"""Servers we compare with, run by bench/bench_peers.py (never part of the service image)."""
