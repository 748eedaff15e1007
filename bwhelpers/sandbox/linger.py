"""
bwhelpers.sandbox.linger
~~~~~~~~~~~~~~~~~~~~~~~~

A lingering close for a connection answered before its request's body was read (workshop mode: a 413 from the
head, a 429/503 refusal, a 408): the answer is followed by the end of the sending side, and what the client (the
hub's configurable-http-proxy) is still sending is read and dropped for a moment before the socket is closed.

Closing a socket with unread data makes the kernel reset the connection, and the reset can reach the proxy before
it has read the answer: it then reports a proxy error and renders the hub's own ``/hub/error/503`` page for it (its
client gets the hub's 503 instead of the 413; rev23e E4). At most :data:`LINGER_BYTES` are read and dropped, for at
most :data:`LINGER_SECONDS`, and at most :data:`MAX_LINGERING` connections linger at once (past it they are closed
at once, as before).
"""
from __future__ import annotations

import socket
from typing import Any

import tornado.ioloop

#: seconds a refused connection's socket is read and dropped after its answer
LINGER_SECONDS = 2.0
#: bytes read and dropped at most
LINGER_BYTES = 4 * 1024 * 1024
#: connections lingering at once at most
MAX_LINGERING = 256
_READ = 64 * 1024

_lingering = 0


def after_answer(conn: Any) -> None:
    """Make the connection of ``conn`` (tornado's HTTP1Connection) linger when it is closed (once its answer is
    written): installed only on a refused request's connection."""
    stream = getattr(conn, "stream", None)
    if stream is None or getattr(stream, "bw_linger", False):
        return
    stream.bw_linger = True
    close_fd = stream.close_fd

    def close() -> None:
        sock = getattr(stream, "socket", None)
        if sock is None or not _linger(sock):
            close_fd()
            return
        stream.socket = None  # the stream is done with it; the lingering read owns it

    stream.close_fd = close


def _linger(sock: socket.socket) -> bool:
    """Start lingering on ``sock`` (True), or False when it cannot (the caller closes it)."""
    global _lingering
    if _lingering >= MAX_LINGERING:
        return False
    try:
        sock.shutdown(socket.SHUT_WR)  # the answer, then the end: the client sees both before anything else
        fd = sock.fileno()
    except OSError:
        return False
    loop = tornado.ioloop.IOLoop.current()
    left = [LINGER_BYTES]
    _lingering += 1

    def done() -> None:
        global _lingering
        if left[0] < 0:
            return
        left[0] = -1
        _lingering -= 1
        loop.remove_timeout(timer)
        try:
            loop.remove_handler(fd)
        except (KeyError, ValueError, OSError):  # pragma: no cover
            pass
        sock.close()

    def readable(_fd: Any, _events: int) -> None:
        try:
            data = sock.recv(_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            done()
            return
        left[0] -= len(data)
        if not data or left[0] <= 0:
            done()

    timer = loop.call_later(LINGER_SECONDS, done)
    try:
        loop.add_handler(fd, readable, tornado.ioloop.IOLoop.READ)
    except (ValueError, OSError):  # pragma: no cover
        done()
    return True
