"""Load and latency benchmarks: scripts run as ``.venv/bin/python benchmarks/<name>.py``.

A package so that the tests can import the shared harness (``benchmarks.harness``).
"""
