"""What ``make run`` serves with (gunicorn and ``gunicorn.conf.py``) answers a burst.

The real gunicorn runs with the repository's configuration and the settings
``make run`` uses, against the test database. 32 clients, each opening a new
TCP connection per request, reserve stock and ask ``/healthz`` at once; every
request must get an HTTP answer (a reservation: 201, 409 or 503 CONTENTION;
never a 500 or a reset), and the app role's connections to PostgreSQL must
stay within ``workers * threads`` all along.
"""

import contextlib
import http.client
import json
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from benchmarks.harness import server_environment
from config.database import ROLE_NAMES, connectable
from config.gunicorn_worker import read_threads
from tests.api.conftest import new_client
from warehouse.models import Tenant

BASE_DIR = Path(__file__).resolve().parent.parent
CLIENTS = 32
REQUESTS_PER_CLIENT = 5
STOCK = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def admin_connection(database: str) -> psycopg.Connection:
    admin = connectable(settings.ADMIN_DATABASE)
    params = {
        "dbname": database,
        "user": admin["USER"],
        "password": admin.get("PASSWORD"),
        "host": admin.get("HOST"),
        "port": admin.get("PORT"),
    }
    return psycopg.connect(
        **{key: value for key, value in params.items() if value}, autocommit=True
    )


@contextlib.contextmanager
def running_gunicorn(tmp_path, **settings_env):
    """gunicorn as ``make run`` starts it, on the test database; ``settings_env`` on top."""
    database = connections["default"].settings_dict["NAME"]
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        **server_environment(database),
        "GUNICORN_ACCESS_LOG": "-",
        **settings_env,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(BASE_DIR / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                status, _ = request(port, "GET", "/healthz")
            except OSError:
                status = None
            if status == 200:
                break
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield port, database, log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def gunicorn_server(tmp_path):
    with running_gunicorn(tmp_path) as server:
        yield server


def request(port, method, path, body=None, headers=None):
    """One request on a connection of its own, as the burst's clients make them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(
            method, path, body=payload, headers={"Connection": "close", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_new_connections_gets_answers_with_bounded_database_connections(
    gunicorn_server,
):
    port, database, log_path = gunicorn_server
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    setup = new_client(tenant)
    assert setup.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert setup.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    receipt = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": STOCK}
    assert setup.post("/receipts", receipt, key="stock").status_code == 201
    token = setup.secret
    connections.close_all()

    configuration = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    # Each worker's pool has a connection per thread: its write threads and its read threads.
    bound = configuration["workers"] * (configuration["threads"] + read_threads())
    samples = []
    sampling = threading.Event()

    def sample():
        with admin_connection(database) as watcher:
            while not sampling.is_set():
                (count,) = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                    [database, ROLE_NAMES["app"]],
                ).fetchone()
                samples.append(count)
                time.sleep(0.02)

    answers = []
    failures = []
    barrier = threading.Barrier(CLIENTS)

    def client(number):
        barrier.wait()
        for attempt in range(REQUESTS_PER_CLIENT):
            try:
                if attempt % 2:
                    status, _ = request(port, "GET", "/healthz")
                    answers.append(("healthz", status, None))
                    continue
                status, content = request(
                    port,
                    "POST",
                    "/api/v1/reservations",
                    body={"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": 1}]},
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": f"burst-{number}-{attempt}",
                        "Content-Type": "application/json",
                    },
                )
                code = json.loads(content).get("error", {}).get("code") if status >= 400 else None
                answers.append(("reserve", status, code))
            except OSError as error:  # a reset, a refused or dropped connection
                failures.append(repr(error))

    watcher = threading.Thread(target=sample)
    watcher.start()
    clients = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    sampling.set()
    watcher.join()

    assert failures == []
    assert len(answers) == CLIENTS * REQUESTS_PER_CLIENT
    assert {status for kind, status, _ in answers if kind == "healthz"} == {200}
    reservations = [(status, code) for kind, status, code in answers if kind == "reserve"]
    assert {status for status, _ in reservations} <= {201, 409, 503}, reservations
    assert all(code == "CONTENTION" for status, code in reservations if status == 503)
    # 40 units, one each: the stock was enough for 40 of the 96 reservations.
    assert sum(1 for status, _ in reservations if status == 201) == STOCK
    assert max(samples) > 0
    assert max(samples) <= bound, (max(samples), bound)
    assert '" 500 ' not in log_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_read_is_answered_while_every_write_thread_waits(tmp_path):
    """One worker, one write thread held by a reservation waiting on a row lock: a GET still goes.

    With a single pool of threads the read would queue behind the write until
    the write gave up (retries of the lock timeout, about ten seconds).
    """
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    setup = new_client(tenant)
    assert setup.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    assert setup.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    receipt = {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 5}
    assert setup.post("/receipts", receipt, key="stock").status_code == 201
    bearer = {"Authorization": f"Bearer {setup.secret}", "Content-Type": "application/json"}
    connections.close_all()
    one_thread_each = {
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_READ_THREADS": "1",
    }
    with (
        running_gunicorn(tmp_path, **one_thread_each) as (port, database, _),
        admin_connection(database) as locker,
        admin_connection(database) as watcher,
    ):
        locker.execute("BEGIN")
        locker.execute("SELECT id FROM inventory_balance FOR UPDATE")
        answers = []
        body = {"warehouse": "DC1", "lines": [{"sku": "WIDGET", "quantity": 1}]}
        write = threading.Thread(
            target=lambda: answers.append(
                request(port, "POST", "/api/v1/reservations", body, headers=bearer)
            )
        )
        write.start()
        deadline = time.monotonic() + 20
        while not watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [database],
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the reservation never waited for the lock"
            time.sleep(0.05)

        status, read = request(port, "GET", "/api/v1/stock?sku=WIDGET", headers=bearer)

        assert status == 200, read
        assert json.loads(read)["on_hand"] == "5.000"
        assert write.is_alive()  # the only write thread is still waiting
        locker.execute("ROLLBACK")
        write.join()
    assert answers[0][0] == 201, answers
