"""2. Sandbox throughput: POST a message with keep-alive at concurrency 1, 8, 32, vs Stoplight Prism."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .common import ROOT, Row, SandboxProcess, Stat, provision, workdir
from .loadgen import LoadResult, run_load

SPEC = Path(__file__).with_name("prism-messaging.yaml")
LEVELS = (1, 8, 32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prism_command() -> list[str] | None:
    local = ROOT / "node_modules" / ".bin" / "prism"
    if local.exists():
        return [str(local)]
    if shutil.which("npx"):
        return ["npx", "--no-install", "prism"]
    return None


class PrismProcess:
    """``prism mock bench/prism-messaging.yaml`` on a free loopback port (logging at 'error')."""

    def __init__(self, timeout: float = 60.0):
        cmd = prism_command()
        if cmd is None:
            raise RuntimeError("npx/prism not found (run `npm ci`)")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*cmd, "mock", "-h", "127.0.0.1", "-p", str(self.port), "-v", "error", str(SPEC)],
            cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = (self.proc.stderr.read() if self.proc.stderr else b"").decode(errors="replace")
                raise RuntimeError(f"prism exited ({self.proc.returncode}): {err.strip()[-300:]}")
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (404 for /): ready
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"prism did not listen within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            import signal
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # npx/node children share the group we created
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def _message(frm: str, app_id: str) -> dict[str, Any]:
    return {"applicationId": app_id, "to": ["+19195550100"], "from": frm, "text": "bench throughput"}


def _count_stored(sb: SandboxProcess, cfg: Any) -> int:
    import requests
    resp = requests.get(f"{sb.url}/api/v2/users/{cfg.account_id}/messages", params={"limit": 1},
                        auth=(cfg.username, cfg.password), timeout=30)
    return int(resp.json().get("totalCount", 0))


def run(smoke: bool = False, repeat: int = 3) -> list[Row]:
    count = 60 if smoke else 1500
    warmup = 10 if smoke else 100
    repeat = 1 if smoke else repeat
    ours: dict[int, list[LoadResult]] = {c: [] for c in LEVELS}
    peer: dict[int, list[LoadResult]] | None = {c: [] for c in LEVELS}
    peer_error = None
    with workdir() as tmp, SandboxProcess(tmp / "sandbox.db") as sb:
        info = provision(sb.url, tmp / "state.json")
        cfg = info["config"]
        body = _message(info["number"], info["application_id"])
        auth = (cfg.username, cfg.password)
        ours_url = f"{sb.url}/api/v2/users/{cfg.account_id}/messages"
        prism = None
        try:
            prism = PrismProcess()
        except (RuntimeError, OSError) as exc:
            peer_error, peer = str(exc), None
        try:
            # interleaved (ours, then Prism, per level and repeat) so machine noise hits both alike; the
            # sandbox's queued callback deliveries drain before Prism's turn
            for _ in range(repeat):
                for c in LEVELS:
                    ours[c].append(run_load(ours_url, body, auth, count=count, concurrency=c, warmup=warmup))
                    sb.drain()
                    if prism is not None and peer is not None:
                        peer[c].append(run_load(f"{prism.url}/users/{cfg.account_id}/messages", body, auth,
                                                count=count, concurrency=c, warmup=warmup))
        finally:
            if prism is not None:
                prism.stop()
        stored = _count_stored(sb, cfg)

    rows = []
    for c in LEVELS:
        o = ours[c]
        o_rps = Stat([r.rps for r in o])
        o_p50 = Stat([r.p50_ms for r in o])
        o_p99 = Stat([r.p99_ms for r in o])
        bad = sum(r.count - r.ok for r in o)
        ours_txt = (f"{o_rps.fmt('req/s', 0)}; p50 {o_p50.fmt('ms', 1)}, p99 {o_p99.fmt('ms', 1)}"
                    + (f"; {bad} non-2xx" if bad else ""))
        values = {"ours_rps": o_rps.median, "ours_p50_ms": o_p50.median, "ours_p99_ms": o_p99.median}
        if peer is not None:
            p = peer[c]
            p_rps = Stat([r.rps for r in p])
            p_p50 = Stat([r.p50_ms for r in p])
            p_p99 = Stat([r.p99_ms for r in p])
            pbad = sum(r.count - r.ok for r in p)
            peer_txt = (f"Prism 5: {p_rps.fmt('req/s', 0)}; p50 {p_p50.fmt('ms', 1)}, p99 {p_p99.fmt('ms', 1)}"
                        + (f"; {pbad} non-2xx" if pbad else ""))
            ratio = Stat([a.rps / b.rps for a, b in zip(o, p)])
            values.update(peer_rps=p_rps.median, peer_p50_ms=p_p50.median, peer_p99_ms=p_p99.median)
        else:
            peer_txt = f"Prism unavailable: {peer_error}"
            ratio = None
        rows.append(Row(
            key=f"2.c{c}", measure=f"Sandbox throughput, POST message, concurrency {c}",
            ours=ours_txt, peer=peer_txt, ratio=ratio, ratio_note="× (ours/Prism req/s)",
            settings=(f"{count} POSTs/level after {warmup} warm-up, keep-alive, asyncio raw-socket client on "
                      f"loopback, repeat {repeat}; ours stateful+persistent (sqlite WAL, auth, validation, "
                      f"callback scheduled; {stored} stored), Prism stateless (static example)"),
            goal=(">=", 2.0) if c == 32 else None, values=values))
    return rows
