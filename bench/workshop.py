"""6. Workshop: N participants (1, 10, 50) run the whole setup through the Python API at once against ONE
workshop service (``python -m bwhelpers.sandbox.workshop``, the process the hub starts), each in their
own provisioned account, below the service prefix.

Reported per cohort size: cohort wall time and its ratio to N = 1, the sandbox's own time per request
(p50/p99, from its access log), requests per participant, errors (participant failures + 5xx), and the
sandbox process's CPU seconds per participant.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bwhelpers.sandbox.keys import INSTANCE_KEY_ENV

from .common import ROOT, Row, Stat, out_of_time, percentile, repeats_note, workdir

PREFIX = "/services/bw-sandbox"
#: the sandbox's default: a number must be registered for A2P (Setup.run_all() does it: step "a2p")
A2P = "on"
ACCESS = re.compile(r"bwhelpers\.sandbox\.access DEBUG (\d{3}) (\S+) (\S+) ([0-9.]+)ms")


class WorkshopService:
    """The workshop service in its own process, with the variables the hub would give it."""

    def __init__(self, folder: Path):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + PREFIX
        self.db = folder / "sandbox.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "JUPYTERHUB_"))}
        env.update(JUPYTERHUB_SERVICE_URL=self.base, JUPYTERHUB_SERVICE_PREFIX=PREFIX + "/",
                   JUPYTERHUB_SERVICE_NAME="bw-sandbox", JUPYTERHUB_API_URL="http://127.0.0.1:9/hub/api",
                   JUPYTERHUB_API_TOKEN="unused-by-the-bench", JUPYTERHUB_CLIENT_ID="service-bw-sandbox",
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        self.log_path = folder / "service.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bwhelpers.sandbox.workshop", "--db", str(self.db), "--public-url", self.base,
             "--order-delay", "0", "--log-level", "DEBUG", "--a2p-enforcement", A2P],
            cwd=str(folder), env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_sandbox/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("the workshop service did not start:\n" + self.log_path.read_text()[-2000:])
        self.key = Path(f"{self.db}.admin-key").read_text().strip()

    def provision(self, name: str) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/participants/{name}", data=b"", method="POST",
                                     headers={"X-Sandbox-Admin-Key": self.key})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def cpu_seconds(self) -> float:
        import psutil

        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def access_log(self) -> list[tuple[int, str, str, float]]:
        self._log.flush()
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = ACCESS.search(line)
            if m:
                out.append((int(m.group(1)), m.group(2), m.group(3), float(m.group(4))))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def participant(answer: dict[str, Any], state: Path) -> float:
    """One participant: the whole setup through the Python API, until the delivery receipt."""
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    creds = answer["credentials"]
    fields = ("account_id", "site_id", "client_id", "client_secret", "username", "password", "user_id", "api_token",
              "api_secret")
    cfg = live_config(sandbox_url=answer["sandbox_url"], target="sandbox", quiet=True,
                      **{k: creds[k] for k in fields})
    t0 = time.perf_counter()
    setup = Setup(cfg, StateStore(state), progress=False)
    for _ in setup.run_all():
        pass
    setup.wait_for_event("message-delivered", timeout=120)
    return time.perf_counter() - t0


def delivered_accounts(db: Path, accounts: list[str]) -> int:
    """How many of ``accounts`` have a message-delivered event (read straight from the sandbox's sqlite file)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT DISTINCT account_id FROM message_events WHERE type='message-delivered'")
        return len(set(accounts) & {r[0] for r in rows})
    finally:
        conn.close()


def cohort(n: int, folder: Path) -> dict[str, Any]:
    svc = WorkshopService(folder)
    # as the spawner hook does for a participant's kernel: the instance key lets the client check that the URL it
    # was given is the room's sandbox (a workshop's health endpoint shows no path, so there is no admin key to read);
    # put back afterwards, so the next measure's own sandbox is proved with its admin key again
    before = os.environ.get(INSTANCE_KEY_ENV)
    try:
        answers = [svc.provision(f"p{i:03d}") for i in range(n)]
        os.environ[INSTANCE_KEY_ENV] = answers[0]["sandbox_key"] if answers else svc.provision("key")["sandbox_key"]
        participant(svc.provision("warm-up"), folder / "state-warm-up.json")  # imports and caches, not measured
        before_log = len(svc.access_log())
        cpu0 = svc.cpu_seconds()
        errors: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> float:
            try:
                return participant(answers[i], folder / f"state-{i}.json")
            except Exception as exc:  # counted, never hidden
                with lock:
                    errors.append(f"p{i:03d}: {type(exc).__name__}: {exc}")
                return float("nan")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            times = list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
        cpu = svc.cpu_seconds() - cpu0
        log = svc.access_log()[before_log:]
        lat = [ms for _s, _m, _p, ms in log]
        server_errors = sum(1 for s, _m, _p, _ms in log if s >= 500)
        done = delivered_accounts(svc.db, [a["credentials"]["account_id"] for a in answers])
        return {"n": n, "wall": wall, "participant_p50": percentile([t for t in times if not math.isnan(t)], 50) if n else 0,
                "requests": len(log), "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                "errors": len(errors) + server_errors, "error_list": errors[:5], "cpu": cpu, "done": done}
    finally:
        svc.stop()
        if before is None:
            os.environ.pop(INSTANCE_KEY_ENV, None)
        else:
            os.environ[INSTANCE_KEY_ENV] = before


def run(smoke: bool = False, repeat: int = 1) -> tuple[list[Row], str]:
    sizes = (1, 3) if smoke else (1, 10, 50)
    if smoke:
        repeat = 1
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    done = 0
    with workdir("bwbench-workshop-") as tmp:
        for r in range(max(1, repeat)):
            if r >= 1 and out_of_time():  # the run's time budget: one full repeat at least
                break
            done += 1
            for n in sizes:
                folder = tmp / f"n{n}-r{r}"
                folder.mkdir()
                results[n].append(cohort(n, folder))
    base = Stat([x["wall"] for x in results[sizes[0]]]).median
    rows = []
    for n in sizes:
        res = results[n]
        wall = Stat([x["wall"] for x in res])
        ratio = Stat([x["wall"] / base for x in res])
        p50 = Stat([x["p50"] for x in res])
        p99 = Stat([x["p99"] for x in res])
        cpu = Stat([x["cpu"] / n for x in res])
        reqs = Stat([x["requests"] / n for x in res])
        errors = sum(x["errors"] for x in res)
        done = min(x["done"] for x in res)
        detail = "; ".join(e for x in res for e in x["error_list"])
        rows.append(Row(
            key=f"6.n{n}", measure=f"Workshop: {n} participant{'s' if n != 1 else ''} at once, one service",
            ours=(f"cohort {wall.fmt('s')}; sandbox p50 {p50.fmt('ms', 1)}, p99 {p99.fmt('ms', 1)}; "
                  f"{reqs.median:.0f} requests and {cpu.fmt('s', 3)} sandbox CPU per participant; "
                  f"errors {errors}; {done}/{n} delivered" + (f" ({detail})" if detail else "")),
            peer=f"N = 1: {base:.2f} s", ratio=ratio, ratio_note="× the N = 1 cohort time",
            settings=(f"{n} threads in one client process, each Setup.run_all() + wait_for_event('message-delivered') "
                      f"in its own provisioned account, against one `python -m bwhelpers.sandbox.workshop` process "
                      f"(below {PREFIX}, order delay 0, a2p_enforcement {A2P}, fresh db per cohort, one unmeasured warm-up participant first); latency = the sandbox's own request "
                      f"time from its access log; CPU = the service process's user+system time; "
                      f"{repeats_note(done, max(1, repeat))}"),
            goal=None,
            values={"wall_s": wall.median, "ratio": ratio.median, "p50_ms": p50.median, "p99_ms": p99.median,
                    "cpu_s_per_participant": cpu.median, "requests_per_participant": reqs.median,
                    "errors": float(errors), "delivered": float(done)}))
    return rows, ""
