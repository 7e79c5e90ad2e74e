"""gunicorn settings: ``make run`` and production serve Stockyard the same way.

``gunicorn -c gunicorn.conf.py`` (what ``make run`` does) serves
``config.wsgi``. Every value can be overridden from the environment; the
defaults are tuned for a small machine (two cores, one PostgreSQL beside the
app).

Worker class ``gthread`` with a second pool of threads for reads
(``config.gunicorn_worker``): a few processes, each serving requests on a
fixed set of threads. A Stockyard request spends most of its time waiting for
PostgreSQL (row locks, short statement timeouts), so threads overlap that
waiting cheaply, and a fixed thread count puts a ceiling on everything a
worker holds at once. ``GET`` and ``HEAD`` run on ``GUNICORN_READ_THREADS``
threads of their own, so a read never queues behind writes. Idle keep-alive
connections wait in the worker's event loop, not on a thread.

Database connections: each worker process opens a psycopg pool for the
``default`` (app role) alias with at most as many connections as it has
threads of both kinds (``DATABASE_POOL_MAX_SIZE``, read by
``config.database``). A request borrows a connection for its duration and
gives it back, so the whole server never holds more than
``workers * (threads + read threads)`` app connections however many
clients arrive: the surplus waits in the listen backlog instead of opening
connections (the development server opened one per request thread and, kept
for a minute, exhausted the server). A pool rather than one persistent
connection per thread, because it lends connections only to threads that are
working and closes the idle ones. The pool is
created inside each worker after the fork (no ``preload_app``), so no
connection is ever shared between processes. The tenant context is set per
transaction (``set_config(..., true)``), so nothing of one request stays on a
pooled connection for the next.
"""

import os


def _number(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# gthread with reads on threads of their own (``config.gunicorn_worker``):
# a stock read never waits behind queued writes.
worker_class = "config.gunicorn_worker.ReadWriteThreadWorker"
# One worker per core (two at least, so one busy or restarting worker never
# stops the service; eight at most): the app mostly waits on PostgreSQL,
# which the threads cover, and more processes would only multiply
# connections and memory.
workers = _number("WEB_CONCURRENCY", min(8, max(2, os.cpu_count() or 1)))
threads = _number("GUNICORN_THREADS", 8)
# Connections waiting to be accepted; a burst larger than workers * threads
# queues here and is served in turn, instead of being refused.
backlog = _number("GUNICORN_BACKLOG", 2048)

# A request still running after this many seconds is stuck (every database
# statement has a short timeout): the worker is restarted.
timeout = _number("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle HTTP keep-alive connection stays open; a little above what
# browsers and load balancers reuse, short enough not to pile up.
keepalive = _number("GUNICORN_KEEPALIVE", 5)
# Workers are replaced now and then, staggered, so a slow leak cannot grow.
max_requests = _number("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"


def post_fork(server, worker):
    """Size the worker's connection pool to its threads before it loads the app.

    Set in the worker, not when this file is read, so that reading the
    configuration (a test, a benchmark) changes no one's environment, and the
    pool follows ``--threads`` when given on the command line.
    """
    from config.gunicorn_worker import read_threads

    os.environ.setdefault("DATABASE_POOL_MAX_SIZE", str(server.cfg.threads + read_threads()))


# No runtime control socket: its default path ($HOME/.gunicorn/gunicorn.ctl)
# is one per user, so two servers on one machine (make run beside the test
# suite's) would fight over it. Signals (HUP, TERM, TTIN, TTOU) still work.
control_socket_disable = True
