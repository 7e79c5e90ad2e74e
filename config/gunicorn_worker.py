"""A gthread worker with separate threads for reads, so reads never queue behind writes.

gunicorn's ``gthread`` worker hands every request to one thread pool, first
come first served. Under a burst of writes (reservations at checkout), a
stock read waits behind every write queued before it, and its latency is
the writes' queue, not its own cost. This worker peeks at the first bytes a
client sent, without consuming them: a request that starts with ``GET`` or
``HEAD`` goes to a pool of its own (``GUNICORN_READ_THREADS`` threads, 4 by
default); everything else to the usual pool of ``threads``. A read thus waits
only for other reads, and the write threads cap how many writes run at once,
which leaves CPU for reads however many write requests are queued.

A connection with nothing to read yet (just accepted) is parked on the
worker's poller, as gthread parks a connection that sends nothing at first,
and comes back here once its request arrives, to be peeked then.
Peeking a TLS socket is not possible; TLS ends before gunicorn in every
deployment Stockyard documents, and such a socket simply uses the usual pool.
"""

from __future__ import annotations

import functools
import os
import selectors
import socket
import ssl
import time
from concurrent import futures

from gunicorn.workers.gthread import ThreadWorker

READ_METHODS = (b"GET ", b"HEAD ")
_PEEK = max(len(method) for method in READ_METHODS)


def read_threads() -> int:
    return int(os.environ.get("GUNICORN_READ_THREADS", 4))


def peek(sock: socket.socket) -> bytes | None:
    """The first bytes waiting on ``sock``, left there; None when nothing has arrived yet.

    A TLS socket, or one that fails, reads as ``b""``: not known to be a read.
    """
    if isinstance(sock, ssl.SSLSocket):
        return b""
    try:
        return sock.recv(_PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError:
        return b""


class ReadWriteThreadWorker(ThreadWorker):
    """``gthread`` with reads (``GET``, ``HEAD``) served on threads of their own."""

    def init_process(self):
        self.read_pool = futures.ThreadPoolExecutor(
            max_workers=read_threads(), thread_name_prefix="read"
        )
        super().init_process()

    def enqueue_req(self, conn):
        start = peek(conn.sock)
        if start is None and not conn.initialized and not conn.data_ready:
            self._park(conn)
            return
        pool = self.read_pool if start and start.startswith(READ_METHODS) else self.tpool
        future = pool.submit(self.handle, conn)
        future.add_done_callback(
            lambda done: self.method_queue.defer(self.finish_request, conn, done)
        )

    def _park(self, conn):
        """Wait on the poller for the first request of ``conn`` (gthread's own deferral)."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        readable = functools.partial(self.on_pending_socket_readable, conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, readable)

    def handle_quit(self, sig, frame):
        self.read_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

    def run(self):
        try:
            super().run()
        finally:
            self.read_pool.shutdown(wait=False)
