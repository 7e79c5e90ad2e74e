"""The embedded PostgreSQL server: shared by processes, stopped when none is left.

Each test uses its own data folder (``STOCKYARD_PGDATA``) so the server the
suite itself runs on is never touched.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.pgserver import EmbeddedServer

BASE_DIR = Path(__file__).resolve().parent.parent
CLIENT = """
import sys, time
from config import pgserver
print(pgserver.start_for_this_process(), flush=True)
time.sleep(float(sys.argv[1]))
"""


@pytest.fixture
def data_folder(tmp_path):
    folder = tmp_path / "pg"
    yield folder
    EmbeddedServer(folder).stop()


def start_client(folder, hold_seconds, grace="1"):
    env = {
        **os.environ,
        "STOCKYARD_PGDATA": str(folder),
        "STOCKYARD_PG_GRACE_SECONDS": grace,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(hold_seconds)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = process.stdout.readline().strip()
    assert url.startswith("postgresql://postgres@/postgres?host="), url
    return process


def wait_until(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_process_does_not_leave_the_server_running(data_folder):
    client = start_client(data_folder, hold_seconds=600)
    server = EmbeddedServer(data_folder)
    assert server.is_running()
    client.kill()
    client.wait()
    assert wait_until(lambda: not server.is_running()), "server still running after SIGKILL"


def test_sigterm_releases_the_server(data_folder):
    client = start_client(data_folder, hold_seconds=600)
    server = EmbeddedServer(data_folder)
    client.send_signal(signal.SIGTERM)
    assert client.wait(timeout=10) == 128 + signal.SIGTERM
    assert server._read_handles() == []
    assert wait_until(lambda: not server.is_running())


def test_the_server_stays_up_while_another_process_uses_it(data_folder):
    first = start_client(data_folder, hold_seconds=600)
    second = start_client(data_folder, hold_seconds=600)
    server = EmbeddedServer(data_folder)
    first.kill()
    first.wait()
    time.sleep(3)  # longer than the grace period
    assert server.is_running()
    second.kill()
    second.wait()
    assert wait_until(lambda: not server.is_running())


def test_with_database_url_nothing_is_started(tmp_path):
    folder = tmp_path / "unused"
    env = {
        **os.environ,
        "STOCKYARD_PGDATA": str(folder),
        "DATABASE_URL": "postgres://someone:secret@db.invalid:5432/stockyard",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['HOST'], settings.DATABASES['default']['USER'])",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["db.invalid", "stockyard_app"]
    assert not folder.exists()
