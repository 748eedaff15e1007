"""6. Workshop: N participants (1, 10, 50) run the whole setup through the Python API at once against ONE
workshop service (``python -m bwhelpers.sandbox.workshop``, the process the hub starts), each in their
own provisioned account, below the service prefix.

The participants run in up to :data:`CLIENT_PROCESSES` client processes (``python -m bench.workshop``, threads
within each), as a room's kernels are separate processes: in ONE process the 50 participants' client CPU (about
0.1 s each: HTTP, XML, the state file) all waits for one GIL, and that process, not the sandbox, set the pace.
Each client process imports bwhelpers and runs an unmeasured warm-up participant before the clock starts.

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
#: client processes the participants of a cohort are spread over (round robin; threads within each)
CLIENT_PROCESSES = 4
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


class ClientProcess:
    """One client process of a cohort (``python -m bench.workshop``): warms up, then on "go" runs its participants
    in threads and answers their times, errors and its own CPU seconds."""

    def __init__(self, svc: WorkshopService, answers: list[dict[str, Any]], folder: Path, instance_key: str,
                 tag: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env[INSTANCE_KEY_ENV] = instance_key
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.workshop"], cwd=str(ROOT), env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        job = {"warm_up": svc.provision(f"warm-up-{tag}"), "answers": answers, "folder": str(folder), "tag": tag}
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"a client process of the workshop measure did not start: {line!r}")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # (the process exits afterwards, outside the measured time)
        if not line:
            raise RuntimeError("a client process of the workshop measure died")
        return dict(json.loads(line))


def client_main() -> int:
    """``python -m bench.workshop``: one client process of a cohort (reads its job on stdin, see ClientProcess)."""
    job = json.loads(sys.stdin.readline())
    folder = Path(job["folder"])
    participant(job["warm_up"], folder / f"state-warm-up-{job['tag']}.json")  # imports and caches, not measured
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    errors: list[str] = []
    lock = threading.Lock()

    def one(answer: dict[str, Any]) -> float:
        try:
            return participant(answer, folder / f"state-{answer['name']}.json")
        except Exception as exc:  # counted, never hidden
            with lock:
                errors.append(f"{answer['name']}: {type(exc).__name__}: {exc}")
            return float("nan")

    cpu0 = time.process_time()
    with ThreadPoolExecutor(max_workers=max(1, len(job["answers"]))) as pool:
        times = list(pool.map(one, job["answers"]))
    print(json.dumps({"times": times, "errors": errors, "cpu": time.process_time() - cpu0}), flush=True)
    return 0


def cohort(n: int, folder: Path, processes: int = CLIENT_PROCESSES) -> dict[str, Any]:
    svc = WorkshopService(folder)
    # as the spawner hook does for a participant's kernel: the instance key lets the client check that the URL it
    # was given is the room's sandbox (a workshop's health endpoint shows no path, so there is no admin key to read)
    clients: list[ClientProcess] = []
    try:
        answers = [dict(svc.provision(f"p{i:03d}"), name=f"p{i:03d}") for i in range(n)]
        key = answers[0]["sandbox_key"] if answers else svc.provision("key")["sandbox_key"]
        shares = [answers[k::processes] for k in range(min(processes, n))]
        clients = [ClientProcess(svc, share, folder, key, str(k)) for k, share in enumerate(shares)]
        for c in clients:
            c.ready()
        before_log = len(svc.access_log())
        cpu0 = svc.cpu_seconds()
        t0 = time.perf_counter()
        for c in clients:
            c.go()
        results = [c.result() for c in clients]
        wall = time.perf_counter() - t0
        cpu = svc.cpu_seconds() - cpu0
        times = [t for r in results for t in r["times"]]
        errors = [e for r in results for e in r["errors"]]
        log = svc.access_log()[before_log:]
        lat = [ms for _s, _m, _p, ms in log]
        server_errors = sum(1 for s, _m, _p, _ms in log if s >= 500)
        done = delivered_accounts(svc.db, [a["credentials"]["account_id"] for a in answers])
        return {"n": n, "wall": wall, "participant_p50": percentile([t for t in times if not math.isnan(t)], 50) if n else 0,
                "requests": len(log), "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                "errors": len(errors) + server_errors, "error_list": errors[:5], "cpu": cpu, "done": done,
                "client_cpu": sum(r["cpu"] for r in results), "processes": len(clients)}
    finally:
        for c in clients:
            if c.proc.stdin is not None:  # a client still waiting for "go" (the cohort failed) ends at once
                c.proc.stdin.close()
            try:
                c.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                c.proc.kill()
                c.proc.wait(timeout=10)
        svc.stop()


def cores() -> int:
    """The CPUs this process may run on (the cohort's processes share them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def cpu_floor(result: dict[str, Any], ncpu: int) -> float:
    """The least wall time a cohort's measured CPU allows: all of it (the service's and the clients') spread
    evenly over ``ncpu`` cores kept busy the whole time, no waiting. A cohort's time over N = 1's cannot be lower
    than this over N = 1's time, whatever the scheduling; a goal below it needs less CPU per participant or
    more cores."""
    return (result["cpu"] + result["client_cpu"]) / ncpu


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
                results[n].append(cohort(n, folder, processes=2 if smoke else CLIENT_PROCESSES))
    base = Stat([x["wall"] for x in results[sizes[0]]]).median
    ncpu = cores()
    rows = []
    for n in sizes:
        res = results[n]
        wall = Stat([x["wall"] for x in res])
        ratio = Stat([x["wall"] / base for x in res])
        p50 = Stat([x["p50"] for x in res])
        p99 = Stat([x["p99"] for x in res])
        cpu = Stat([x["cpu"] / n for x in res])
        client_cpu = Stat([x["client_cpu"] / n for x in res])
        floor = Stat([cpu_floor(x, ncpu) / base for x in res])
        procs = res[0]["processes"]
        reqs = Stat([x["requests"] / n for x in res])
        errors = sum(x["errors"] for x in res)
        delivered = min(x["done"] for x in res)  # (``done`` is the number of repeats made)
        detail = "; ".join(e for x in res for e in x["error_list"])
        rows.append(Row(
            key=f"6.n{n}", measure=f"Workshop: {n} participant{'s' if n != 1 else ''} at once, one service",
            ours=(f"cohort {wall.fmt('s')}; sandbox p50 {p50.fmt('ms', 1)}, p99 {p99.fmt('ms', 1)}; "
                  f"{reqs.median:.0f} requests, {cpu.fmt('s', 3)} sandbox CPU and {client_cpu.fmt('s', 3)} client "
                  f"CPU per participant; "
                  f"errors {errors}; {delivered}/{n} delivered" + (f" ({detail})" if detail else "")
                  + (f"; CPU floor {floor.median:.2f}× (the {n} participants' sandbox + client CPU over {ncpu} "
                     f"cores: no cohort of {n} on this machine can take less)" if n > 1 else "")),
            peer=f"N = 1: {base:.2f} s", ratio=ratio, ratio_note="× the N = 1 cohort time",
            settings=(f"{n} participants in {procs} client process{'es' if procs != 1 else ''} (threads within each, "
                      f"each process warmed up by a participant of its own first), each Setup.run_all() + wait_for_event('message-delivered') "
                      f"in its own provisioned account, against one `python -m bwhelpers.sandbox.workshop` process "
                      f"(below {PREFIX}, order delay 0, a2p_enforcement {A2P}, fresh db per cohort); latency = the sandbox's own "
                      f"request time from its access log; sandbox CPU = the service process's user+system time, "
                      f"client CPU = the client processes' own; "
                      f"{repeats_note(done, max(1, repeat))}"),
            goal=None,
            values={"wall_s": wall.median, "ratio": ratio.median, "p50_ms": p50.median, "p99_ms": p99.median,
                    "cpu_s_per_participant": cpu.median, "client_cpu_s_per_participant": client_cpu.median,
                    "requests_per_participant": reqs.median, "cpu_floor_ratio": floor.median,
                    "errors": float(errors), "delivered": float(delivered)}))
    return rows, ""


if __name__ == "__main__":
    raise SystemExit(client_main())
