"""
bwhelpers.lean_http
~~~~~~~~~~~~~~~~~~~

The ``http.client`` connections of the send path's kept-alive connections (:func:`bwhelpers.http.post_json`),
leaner than the standard ones in two ways that were a large part of a send's client CPU:

* a request's head and its body go out in one write (``http.client`` writes them separately: two system calls,
  two segments the service reads one after the other);
* a response's head is read by :func:`read_headers` instead of ``email.parser``, into :class:`Headers`, which
  looks a name up without lowering every stored one.

The body, its framing (Content-Length, chunked, a closing connection) and the keep-alive rules stay
``http.client``'s own.
"""
from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

#: the limits http.client applies to a response head (one line, the number of header lines)
MAX_LINE = 65536
MAX_HEADERS = 100


class Headers:
    """A response's header lines in order, looked up without regard to case (what callers read of an
    ``http.client.HTTPMessage``: ``get``, ``get_all``, ``[]``, ``in``, ``items``, ``keys``, ``values``, iteration)."""

    __slots__ = ("_pairs", "_first")

    def __init__(self, pairs: list[tuple[str, str]]):
        self._pairs = pairs
        first: dict[str, str] = {}
        for name, value in pairs:
            first.setdefault(name.lower(), value)
        self._first = first

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str, failobj: list[str] | None = None) -> list[str] | None:
        key = name.lower()
        found = [v for n, v in self._pairs if n.lower() == key]
        return found or failobj

    def __getitem__(self, name: str) -> str | None:
        return self._first.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def keys(self) -> list[str]:
        return [n for n, _ in self._pairs]

    def values(self) -> list[str]:
        return [v for _, v in self._pairs]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


def read_headers(fp: object) -> Headers:
    """The header lines of ``fp`` (a binary file at the first one) up to the empty line that ends them."""
    readline = fp.readline  # type: ignore[attr-defined]
    pairs: list[tuple[str, str]] = []
    while True:
        line = readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n", b""):
            break
        text = line.decode("iso-8859-1")
        if text[0] in " \t" and pairs:  # a folded line continues the previous value
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {text.strip()}")
            continue
        if len(pairs) >= MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        name, sep, value = text.partition(":")
        if sep:
            pairs.append((name.strip(), value.strip()))
    return Headers(pairs)


class LeanResponse(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` whose head is read by :func:`read_headers` (``msg``/``headers`` is a
    :class:`Headers`); status line, framing and keep-alive as ``http.client`` decides them."""

    def begin(self) -> None:
        if self.headers is not None:  # already read
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            read_headers(self.fp)  # a 100 Continue's head
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_headers(self.fp)
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding) and encoding.lower() == "chunked"
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            if self.length is not None and self.length < 0:
                self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 or \
                self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # no framing: the body ends when the connection does


def _send_output(self: http.client.HTTPConnection, message_body: Any = None, encode_chunked: bool = False) -> None:
    """``http.client.HTTPConnection._send_output``, but a body of bytes goes out with the head in one write."""
    if isinstance(message_body, bytes) and not encode_chunked:
        buffer: list[bytes] = self._buffer  # type: ignore[attr-defined]
        buffer.extend((b"", b""))
        head = b"\r\n".join(buffer)
        del buffer[:]
        self.send(head + message_body)
        return
    _STANDARD_SEND_OUTPUT(self, message_body, encode_chunked)


_STANDARD_SEND_OUTPUT = http.client.HTTPConnection._send_output  # type: ignore[attr-defined]


class LeanConnection(http.client.HTTPConnection):
    """``http.client.HTTPConnection`` with one write per request and :class:`LeanResponse`."""

    response_class = LeanResponse
    _send_output = _send_output


class LeanHTTPSConnection(http.client.HTTPSConnection):
    """``http.client.HTTPSConnection`` with one write per request and :class:`LeanResponse`."""

    response_class = LeanResponse
    _send_output = _send_output
