"""Benchmarks here are run by hand (``python tests/bench/bench_import.py``), not by pytest."""

collect_ignore_glob = ["bench_*.py"]
