"""``benchmarks/stress.py`` with tiny numbers: it runs, checks, and cleans up after itself.

The script makes and drops a database of its own, so it runs in a process of
its own (the suite's connections keep pointing at the test database).
"""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def test_stress_script_reports_the_invariants_and_exits_zero():
    database = f"stockyard_stress_{os.getpid()}"
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/stress.py",
            "--workers=3",
            "--reservations=4",
            "--units=5",
            "--orders=4",
            "--skus=4",
            "--units-per-sku=9",
            f"--database={database}",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[ok] successes: 5 (expected 5)" in out
    assert "[ok] failures by error code:" in out
    assert "[ok] ledger sum equals balance for every lot and bin" in out
    assert "[ok] no deadlock reached a client (0)" in out
    assert "FAILED" not in out
    assert "All invariants held." in out


def test_stress_script_refuses_a_size_that_is_not_a_positive_whole_number():
    result = subprocess.run(
        [sys.executable, "benchmarks/stress.py", "--workers=0"],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "invalid positive whole number value: '0'" in result.stderr
