"""A small keep-alive HTTP/1.1 load generator on asyncio streams (loopback only, bounded counts).

The same generator drives the sandbox and Prism: ``concurrency`` connections, each sending requests
back to back over one kept-alive socket until ``count`` requests in total have completed.
Per-request latency is measured from the write to the last byte of the body.
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .common import percentile


@dataclass
class LoadResult:
    count: int
    concurrency: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("nan")

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)


def build_request(url: str, body: Any, auth: "tuple[str, str] | str") -> tuple[str, int, bytes]:
    """The raw request; ``auth`` is (user, password) for Basic or a whole Authorization value (``Bearer ...``)."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets loopback")
    payload = json.dumps(body).encode()
    if isinstance(auth, str):
        authorization = auth
    else:
        authorization = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    head = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\nConnection: keep-alive\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, keep_alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    keep = True
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.lower() == "close":
            keep = False
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    elif length is None and status not in (204, 304):
        await reader.read()  # until close
        keep = False
    return status, keep


async def _run(host: str, port: int, raw: bytes, count: int, concurrency: int) -> LoadResult:
    result = LoadResult(count=count, concurrency=concurrency, seconds=0.0)
    remaining = [count]

    async def worker() -> None:
        reader = writer = None
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                t0 = time.perf_counter()
                writer.write(raw)
                await writer.drain()
                status, keep = await _read_response(reader)  # type: ignore[arg-type]
                result.latencies.append(time.perf_counter() - t0)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if not keep:
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                result.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def run_load(url: str, body: Any, auth: "tuple[str, str] | str", count: int, concurrency: int,
             warmup: int = 0) -> LoadResult:
    """POST ``body`` to ``url`` ``count`` times over ``concurrency`` keep-alive connections."""
    host, port, raw = build_request(url, body, auth)
    if warmup:
        asyncio.run(_run(host, port, raw, warmup, min(concurrency, warmup)))
    return asyncio.run(_run(host, port, raw, count, concurrency))
