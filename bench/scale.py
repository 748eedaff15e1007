"""7. Scale: the sandbox at 0, 100k and 1M stored messages (issue 14).

For each size a fresh sandbox db is provisioned over HTTP (steps 1-7), then ``size`` delivered messages
are seeded straight through the models (:func:`bwhelpers.sandbox.messaging.models.seed_delivered`: the
rows a send and its delivered callback leave, without HTTP), and a sandbox subprocess serves it:

* ``listMessages`` page latency: ``GET /api/v2/users/{a}/messages?limit=10``, walking ``nextPageToken``
  (p50/p99 over the pages);
* POST throughput at concurrency 8 (the raw-socket load generator of measure 2);
* ``GET /orders/{id}`` latency (p50/p99);
* db bytes per stored message ((file + WAL after the seed) - (file before)) / size.

Ratios are against the empty db measured in the same run. Sizes: ``BENCH_SCALE_SIZES`` (comma-separated,
e.g. ``0,100000``) or ``python -m bench --only scale --scale-sizes 0,100000``; the first size is the
baseline and should be 0.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from .common import Row, SandboxProcess, Stat, percentile, provision, workdir
from .loadgen import run_load

DEFAULT_SIZES = (0, 100_000, 1_000_000)
SMOKE_SIZES = (0, 2_000)


def sizes(smoke: bool) -> tuple[int, ...]:
    raw = os.environ.get("BENCH_SCALE_SIZES", "").strip()
    if raw:
        return tuple(int(s.replace("_", "")) for s in raw.split(",") if s.strip())
    return SMOKE_SIZES if smoke else DEFAULT_SIZES


def _block_ratios(ours: list[float], empty: list[float], block: int = 5) -> list[float]:
    """Ratios of the medians of consecutive blocks of rounds (robust to one noisy round on a shared machine)."""
    out = []
    for i in range(0, len(ours), block):
        a, b = ours[i:i + block], empty[i:i + block]
        if a and b:
            out.append(statistics.median(a) / statistics.median(b))
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


def _db_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def _latencies(fn: Any, count: int) -> list[float]:
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def prepare(tmp: Path, size: int) -> dict[str, Any]:
    """A provisioned db with ``size`` seeded messages (provisioning over HTTP, the seed through the models)."""
    from bwhelpers.sandbox.db import Database
    from bwhelpers.sandbox.messaging import models

    db_path = tmp / f"scale-{size}.db"
    port = _free_port()  # the measuring server gets the same port, so the app's callback bin is its own
    with SandboxProcess(db_path, port=port) as sb:
        info = provision(sb.url, tmp / f"state-{size}.json")
        callback = f"{sb.url}/_sandbox/bins/scale"
    before = _db_bytes(db_path)
    t0 = time.perf_counter()
    db = Database(db_path)
    models.seed_delivered(db, info["config"].account_id, info["application_id"], info["number"], size,
                          callback_url=callback)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"size": size, "db": db_path, "info": info, "port": port, "seed_s": time.perf_counter() - t0,
            "bytes_per_msg": (_db_bytes(db_path) - before) / size if size else float("nan"),
            "order_id": info["setup"].saved["orders"][-1]["id"], "page": [], "order": [], "rps": [], "ok": 0,
            "page_r": [], "order_r": [],
            "posted": 0}


class Client:
    """One keep-alive session per size: a listMessages walk (following nextPageToken) and GET /orders/{id}."""

    def __init__(self, sb: SandboxProcess, prep: dict[str, Any]):
        import requests

        cfg = prep["info"]["config"]
        self.prep, self.sb = prep, sb
        self.auth = (cfg.username, cfg.password)
        self.base = f"{sb.url}/api/v2/users/{cfg.account_id}/messages"
        self.orders_url = f"{sb.url}/api/accounts/{cfg.account_id}/orders/{prep['order_id']}"
        self.http = requests.Session()
        self.http.auth = self.auth
        self.token: str | None = None
        self.body = {"applicationId": prep["info"]["application_id"], "to": ["+19195550100"],
                     "from": prep["info"]["number"], "text": "bench scale"}

    def page(self) -> float:
        params: dict[str, Any] = {"limit": 10}
        if self.token:
            params["pageToken"] = self.token
        t0 = time.perf_counter()
        doc = self.http.get(self.base, params=params, timeout=30).json()
        took = time.perf_counter() - t0
        self.token = doc["pageInfo"].get("nextPageToken")
        self.prep["stored"] = doc["totalCount"]
        return took

    def order(self) -> float:
        t0 = time.perf_counter()
        self.http.get(self.orders_url, timeout=30).raise_for_status()
        return time.perf_counter() - t0


def measure(clients: list[Client], requests_per_size: int, blocks: int, post_rounds: int, posts: int) -> None:
    """Latencies interleaved request by request across the sizes (so the shared machine's noise hits all
    alike), in ``blocks`` for per-block ratios; then ``post_rounds`` rounds of ``posts`` POSTs per size in turn."""
    for c in clients:
        for _ in range(5):
            c.page()  # warm-up (connection, caches)
            c.order()
        c.token = None
    per_block = max(1, requests_per_size // blocks)
    for kind in ("page", "order"):
        for _ in range(blocks):
            block: list[list[float]] = [[] for _ in clients]
            for _ in range(per_block):
                for i, c in enumerate(clients):
                    block[i].append(c.page() if kind == "page" else c.order())
            for i, c in enumerate(clients):
                c.prep[kind] += block[i]
                c.prep[f"{kind}_r"].append(percentile(block[i], 50) * 1000)
    for _ in range(post_rounds):
        for c in clients:
            load = run_load(c.base, c.body, c.auth, count=posts, concurrency=8, warmup=20)
            c.prep["rps"].append(load.rps)
            c.prep["ok"] += load.ok
            c.prep["posted"] += posts
            c.sb.drain()


def bytes_without_callbacks(tmp: Path, count: int) -> float:
    """B/message of the message and its event alone: what ``retention`` leaves once delivered callbacks go."""
    from bwhelpers.sandbox.db import Database
    from bwhelpers.sandbox.messaging import models

    db_path = tmp / "scale-retained.db"
    db = Database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _db_bytes(db_path)
    models.seed_delivered(db, "9900000", "app", "+19195550199", count, callback_url=None)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    out = (_db_bytes(db_path) - before) / count
    for leftover in tmp.glob("scale-retained.db*"):
        leftover.unlink()
    return out


def run(smoke: bool = False, repeat: int = 3) -> tuple[list[Row], str]:
    wanted = sizes(smoke)
    requests_per_size = 60 if smoke else 500
    blocks = 2 if smoke else 10
    post_rounds = 2 if smoke else max(20, repeat)
    posts = 100
    with workdir("bwbench-scale-") as tmp:
        retained = bytes_without_callbacks(tmp, 2_000 if smoke else 50_000)
        preps = [prepare(tmp, size) for size in wanted]
        servers = [SandboxProcess(p["db"], reset=False, port=p["port"]) for p in preps]
        try:
            measure([Client(sb, p) for sb, p in zip(servers, preps)], requests_per_size, blocks, post_rounds, posts)
        finally:
            for sb in servers:
                sb.stop()
    results = []
    for p in preps:
        results.append({
            "size": p["size"], "seed_s": p["seed_s"], "bytes_per_msg": p["bytes_per_msg"], "stored": p["stored"],
            "page_p50": percentile(p["page"], 50) * 1000, "page_p99": percentile(p["page"], 99) * 1000,
            "order_p50": percentile(p["order"], 50) * 1000, "order_p99": percentile(p["order"], 99) * 1000,
            "post_rps": statistics.median(p["rps"]), "post_ok": p["ok"], "posts": p["posted"],
            "pages": len(p["page"]), "rounds": post_rounds, "page_r": p["page_r"], "order_r": p["order_r"],
            "rps_r": p["rps"],
        })
    base = results[0]
    rows: list[Row] = []
    settings = (f"sizes {', '.join(_label(s) for s in wanted)} stored messages (seeded through "
                f"messaging.models.seed_delivered: message + delivered event + delivered callback + attempt); "
                f"one sandbox subprocess per size, all up at once; {base['pages']} GETs per latency and size, "
                f"interleaved request by request across the sizes, ratio samples = {blocks} blocks' p50 ratios; "
                f"POSTs: {post_rounds} rounds of {posts} at concurrency 8 per size in turn (ratio samples = medians of "
                f"5-round blocks)")
    for r in results[1:]:
        lab = _label(r["size"])
        rows.append(Row(
            key=f"7a.{lab}", measure=f"Scale: listMessages page (limit=10, walking nextPageToken) at {lab} messages",
            ours=f"p50 {r['page_p50']:.2f} ms, p99 {r['page_p99']:.2f} ms (totalCount {r['stored']:,})",
            peer=f"empty db: p50 {base['page_p50']:.2f} ms, p99 {base['page_p99']:.2f} ms",
            ratio=Stat([a / b for a, b in zip(r["page_r"], base["page_r"])]), ratio_note="× empty (per-round p50; lower is better)",
            goal=("<=", 2.0), settings=settings,
            values={"page_p50_ms": r["page_p50"], "page_p99_ms": r["page_p99"], "size": r["size"]}))
        rows.append(Row(
            key=f"7b.{lab}", measure=f"Scale: POST message throughput (concurrency 8) at {lab} messages",
            ours=f"{r['post_rps']:,.0f} req/s ({r['post_ok']}/{r['posts']} accepted)",
            peer=f"empty db: {base['post_rps']:,.0f} req/s",
            ratio=Stat(_block_ratios(r["rps_r"], base["rps_r"])), ratio_note="× empty (higher is better)",
            goal=(">=", 0.9), settings=settings, values={"post_rps": r["post_rps"], "size": r["size"]}))
        rows.append(Row(
            key=f"7c.{lab}", measure=f"Scale: GET /orders/{{id}} at {lab} messages",
            ours=f"p50 {r['order_p50']:.2f} ms, p99 {r['order_p99']:.2f} ms",
            peer=f"empty db: p50 {base['order_p50']:.2f} ms, p99 {base['order_p99']:.2f} ms",
            ratio=Stat([a / b for a, b in zip(r["order_r"], base["order_r"])]), ratio_note="× empty (p50; lower is better)",
            settings=settings, values={"order_p50_ms": r["order_p50"], "size": r["size"]}))
        rows.append(Row(
            key=f"7d.{lab}", measure=f"Scale: db bytes per stored message at {lab}",
            ours=f"{r['bytes_per_msg']:,.0f} B/message (seeded in {r['seed_s']:.0f} s)",
            peer=f"with `retention` pruning delivered callbacks: {retained:,.0f} B/message (message + event); "
                 "issue 14 measured about 1,300 B/message before",
            ratio=None, ratio_note="(message, event, delivered callback body and attempt, and their indexes)",
            settings=settings, values={"bytes_per_msg": r["bytes_per_msg"], "retained_bytes_per_msg": retained, "size": r["size"]}))
    extra = "\n".join([
        "### Scale: per size", "",
        "| stored | page p50 / p99 ms | POST req/s | GET /orders/{id} p50 / p99 ms | B/message | seed s |",
        "|---|---|---|---|---|---|",
        *[f"| {_label(r['size'])} | {r['page_p50']:.2f} / {r['page_p99']:.2f} | {r['post_rps']:,.0f} | "
          f"{r['order_p50']:.2f} / {r['order_p99']:.2f} | "
          f"{'–' if r['size'] == 0 else format(r['bytes_per_msg'], ',.0f')} | {r['seed_s']:.1f} |"
          for r in results],
    ])
    return rows, extra
