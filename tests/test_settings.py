"""Production settings refuse to start half-configured and pass ``check --deploy``."""

import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import environ
import pytest
from django.core.management import call_command

from benchmarks.harness import server_environment
from config.database import connection_aliases
from config.gunicorn_worker import read_threads

BASE_DIR = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-production-test-key-" + "z" * 20


# Never connected to: the checks that use it need no database.
EXTERNAL_DATABASE = "postgres://stockyard:secret@db.invalid:5432/stockyard"


def manage(*args, env_overrides):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": EXTERNAL_DATABASE,
        **env_overrides,
    }
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env_overrides={"DJANGO_SECRET_KEY": None})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = manage(
        "check", env_overrides={"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_ALLOWED_HOSTS": None}
    )
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            # The generated key columns' check asks the server for its version,
            # so this one check needs a server that answers: the suite's own.
            **server_environment("postgres"),
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "stockyard.example",
            # The suite sets it for its browser tests; production never does.
            "DJANGO_ALLOW_ASYNC_UNSAFE": None,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_database_url():
    result = manage(
        "check",
        env_overrides={
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "stockyard.example",
            "DATABASE_URL": None,
        },
    )
    assert result.returncode != 0
    assert "DATABASE_URL must be set in production" in result.stderr


ADMIN = {"NAME": "stockyard", "HOST": "/run/pg", "PORT": "", "PASSWORD": "x", "OPTIONS": {}}


def test_unpooled_connections_are_closed_after_each_request(monkeypatch):
    # The development server serves each request on a new thread; a connection
    # kept for reuse would stay open behind every finished thread.
    monkeypatch.delenv("DATABASE_POOL_MAX_SIZE", raising=False)
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    aliases = connection_aliases(environ.Env(), ADMIN)
    assert {alias: config["CONN_MAX_AGE"] for alias, config in aliases.items()} == {
        "default": 0,
        "owner": 0,
        "maintenance": 0,
    }
    assert "pool" not in aliases["default"]["OPTIONS"]


def test_gunicorn_workers_pool_at_most_their_thread_count(monkeypatch):
    # Recorded first, so what the worker hook sets is undone after the test.
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "")
    monkeypatch.delenv("DATABASE_POOL_MAX_SIZE")
    configuration = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    assert configuration["worker_class"] == "config.gunicorn_worker.ReadWriteThreadWorker"
    # Reading the configuration changes nobody's environment ...
    assert "DATABASE_POOL_MAX_SIZE" not in os.environ
    # ... a worker sizes its pool to its threads, for writes and for reads, before
    # loading the app.
    server = types.SimpleNamespace(cfg=types.SimpleNamespace(threads=configuration["threads"]))
    configuration["post_fork"](server, worker=None)
    threads = configuration["threads"] + read_threads()
    assert os.environ["DATABASE_POOL_MAX_SIZE"] == str(threads)
    default = connection_aliases(environ.Env(), ADMIN)["default"]
    assert default["OPTIONS"]["pool"]["max_size"] == threads
    assert default["CONN_MAX_AGE"] == 0
    # No round trip to check a connection before each request borrows it.
    assert default["CONN_HEALTH_CHECKS"] is False


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
