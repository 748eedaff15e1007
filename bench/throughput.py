"""2. Sandbox throughput: POST a message with keep-alive at concurrency 1, 8, 32, vs Stoplight Prism; and at 32
connections under wrk vs a bare tornado JSON echo (the framework's ceiling) and vs Prism, with OAuth Bearer."""
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

import re
import subprocess as _sp
import sys

from . import wrk
from .common import ROOT, Row, SandboxProcess, Stat, provision, workdir
from .loadgen import LoadResult, run_load

#: how to get the peer when it is missing
PRISM_HINT = ("Prism is not installed: run `npm ci` in the repository root (it installs "
              "node_modules/.bin/prism from package.json)")

SPEC = Path(__file__).with_name("prism-messaging.yaml")
LEVELS = (1, 8, 32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prism_command() -> list[str] | None:
    """The repository's own Prism (``npm ci``), else one on PATH; None when there is none (``npx --no-install``
    cannot find it either: it only fails later with "could not determine executable to run")."""
    local = ROOT / "node_modules" / ".bin" / "prism"
    if local.exists():
        return [str(local)]
    found = shutil.which("prism")
    return [found] if found else None


class EchoProcess:
    """``python -m bench.echo``: a bare tornado JSON echo in its own process."""

    def __init__(self) -> None:
        self.proc = _sp.Popen([sys.executable, "-m", "bench.echo"], cwd=str(ROOT), stdout=_sp.PIPE,
                              stderr=_sp.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            self.stop()
            raise RuntimeError("the tornado echo did not start")
        self.url = m.group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except _sp.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class PrismProcess:
    """``prism mock bench/prism-messaging.yaml`` on a free loopback port (logging at 'error')."""

    def __init__(self, timeout: float = 60.0):
        cmd = prism_command()
        if cmd is None:
            raise RuntimeError(PRISM_HINT)
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
                        headers={"Authorization": _authorization(cfg)[1]}, timeout=30)
    return int(resp.json().get("totalCount", 0))


def _authorization(cfg: Any) -> tuple[str, str]:
    """(scheme, the Authorization header value) the messaging client would send: an OAuth Bearer token when the
    config has API credentials, else Basic."""
    import base64

    from bwhelpers.http import auth_for

    auth = auth_for(cfg, "messaging")
    source = getattr(auth, "source", None)
    if source is not None:
        return "OAuth Bearer", f"Bearer {source.access_token()}"
    user, password = auth
    return "Basic", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _wrk_rows(sb: SandboxProcess, cfg: Any, body: dict[str, Any], prism: "PrismProcess | None",
              prism_error: str | None, smoke: bool, repeat: int) -> list[Row]:
    """Ours vs the bare tornado echo and vs Prism, wrk at 32 connections, the three taking turns."""
    conns, seconds = 32, (1.0 if smoke else 5.0)
    scheme, authorization = _authorization(cfg)
    headers = {"Authorization": authorization, "Accept": "application/json"}
    ours_url = f"{sb.url}/api/v2/users/{cfg.account_id}/messages"
    got: dict[str, list[wrk.WrkResult]] = {"ours": [], "echo": [], "prism": []}
    stored_ok = True
    echo = EchoProcess()
    try:
        targets = {"ours": ours_url, "echo": f"{echo.url}/api/v2/users/{cfg.account_id}/messages"}
        if prism is not None:
            targets["prism"] = f"{prism.url}/users/{cfg.account_id}/messages"
        for url in targets.values():  # warm-up, not counted
            wrk.run(url, body, headers, conns, 1)
        sb.drain()
        for i in range(repeat):
            order = list(targets)
            order = order[i % len(order):] + order[:i % len(order)]
            for name in order:
                before = _count_stored(sb, cfg) if name == "ours" else 0
                result = wrk.run(targets[name], body, headers, conns, seconds)
                got[name].append(result)
                if name == "ours":
                    stored_ok = stored_ok and _count_stored(sb, cfg) - before >= result.ok
                    sb.drain()
    finally:
        echo.stop()
    o = got["ours"]
    o_rps = Stat([r.rps for r in o])
    ours_txt = (f"{o_rps.fmt('req/s', 0)}; p50 {Stat([r.p50_ms for r in o]).fmt('ms', 1)}, p99 "
                f"{Stat([r.p99_ms for r in o]).fmt('ms', 1)}; every 2xx stored: {'yes' if stored_ok else 'NO'}"
                + (f"; {sum(r.non_2xx for r in o)} non-2xx" if sum(r.non_2xx for r in o) else ""))
    settings = (f"wrk -t1 -c{conns} -d{seconds:g}s, {repeat} runs each after a 1 s warm-up, the three servers taking "
                f"turns; same POST body and headers ({scheme}); ours stateful+persistent (auth, A2P check, sqlite "
                f"WAL commit before each 202, concurrent requests grouped in one transaction; callback scheduled "
                f"and delivered to the sandbox's request bin)")
    rows = []
    e = got["echo"]
    rows.append(Row(
        key="2.echo", measure=f"Sandbox POST message vs a bare tornado JSON echo, {conns} connections (wrk)",
        ours=ours_txt, peer=f"tornado echo (`python -m bench.echo`): {Stat([r.rps for r in e]).fmt('req/s', 0)}; "
                            f"p50 {Stat([r.p50_ms for r in e]).fmt('ms', 1)}",
        ratio=Stat([a.rps / b.rps for a, b in zip(o, e)]), ratio_note="× (ours/echo req/s)", settings=settings,
        goal=(">=", 0.5), values={"ours_rps": o_rps.median, "echo_rps": Stat([r.rps for r in e]).median,
                                  "stored_ok": float(stored_ok)}))
    p = got["prism"]
    # what parity with Prism asks on this machine, in the framework's terms: Prism's share of the bare echo
    prism_echo = Stat([a.rps / b.rps for a, b in zip(p, e)]) if p else None
    rows.append(Row(
        key="2.prism", measure=f"Sandbox POST message vs Prism, {conns} connections (wrk)", ours=ours_txt,
        peer=(f"Prism 5: {Stat([r.rps for r in p]).fmt('req/s', 0)}; p50 {Stat([r.p50_ms for r in p]).fmt('ms', 1)}; "
              f"Prism / tornado echo {prism_echo.fmt('', 2)} (parity with Prism means that share of the echo)"
              if p and prism_echo else f"Prism unavailable: {prism_error}"),
        ratio=Stat([a.rps / b.rps for a, b in zip(o, p)]) if p else None, ratio_note="× (ours/Prism req/s)",
        settings=settings, goal=(">=", 1.0),
        values={"ours_rps": o_rps.median, **({"peer_rps": Stat([r.rps for r in p]).median,
                                              "prism_over_echo": prism_echo.median} if p and prism_echo else {})}))
    return rows


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
        scheme, auth = _authorization(cfg)
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
            extra_rows = (_wrk_rows(sb, cfg, body, prism, peer_error, smoke, repeat) if wrk.available() else [])
        finally:
            if prism is not None:
                prism.stop()
        stored = _count_stored(sb, cfg)
        outcomes = sb.outcomes()

    path = success_path_note(outcomes)
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
                      f"loopback, {scheme}, repeat {repeat}; ours stateful+persistent (sqlite WAL, auth, validation, "
                      f"callback scheduled; {stored} stored), Prism stateless (static example); {path}"),
            values=values))
    for row in extra_rows:
        row.settings += f"; {path}"
    for row in rows + extra_rows:
        row.values.update(delivered_events=float(outcomes.get("message-delivered", 0)),
                          failed_events=float(sum(n for k, n in outcomes.items() if k != "message-delivered")))
    return rows + extra_rows


def success_path_note(outcomes: dict[str, int]) -> str:
    """What path the sends took: a real user's number is registered to a 10DLC campaign (the walkthrough's A2P
    step) before it sends, so every message is delivered; an unregistered one would measure the 4476 failure."""
    delivered = outcomes.get("message-delivered", 0)
    failed = {k: n for k, n in outcomes.items() if k != "message-delivered"}
    note = (f"success path: the sending number was registered to a 10DLC campaign first (the A2P step), "
            f"{delivered:,} message-delivered")
    if failed:
        note += ", NOT ONLY SUCCESS: " + ", ".join(f"{n:,} {k}" for k, n in sorted(failed.items()))
    return note
