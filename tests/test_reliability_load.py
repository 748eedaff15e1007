"""Load (loopback only): 10,000 messages through one sandbox process from 16 concurrent bwhelpers
clients, each message's delivery callback going to a local receiver.

Expect 0 send errors, 0 lost and 0 duplicated callbacks, every outbox row delivered at the first
attempt, and bounded sandbox memory (peak RSS of the sandbox process, sampled with psutil).
``BW_LOAD_MESSAGES`` / ``BW_LOAD_CLIENTS`` change the size (CI runs the default).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

import _reliability_report as report
from _reliability_report import item, record
from _reliability_support import Receiver, SandboxProcess

plugin = report.fixture()

MESSAGES = int(os.environ.get("BW_LOAD_MESSAGES", "10000"))
CLIENTS = int(os.environ.get("BW_LOAD_CLIENTS", "16"))
PEAK_RSS_LIMIT_MB = 400


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.proc, self.interval = psutil.Process(pid), interval
        self.peak = self.start_rss = self.proc.memory_info().rss
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
                self.samples += 1
            except psutil.Error:
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)


def _pending(db: Path) -> int:
    """Outbox rows the sandbox has still to post (or is posting)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM callback_outbox WHERE status='pending'").fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.timeout(900)  # a hang guard, not a timing check: 10,000 sends took 297 s at load 10 and over 300 at 25
def test_ten_thousand_messages_sixteen_clients_no_lost_or_duplicated_callbacks(tmp_path: Path) -> None:
    from conftest import XmlSession

    from bwhelpers.config import Config
    from bwhelpers.errors import BandwidthError
    from bwhelpers.messaging import MessagingClient
    from bwhelpers.sandbox import DEMO

    receiver = Receiver().up()
    sb = SandboxProcess(tmp_path / "load.db", order_delay=0, log_level="WARNING").start(reset=True)
    try:
        sb.settings(delivery_delay=0)
        s = XmlSession(sb.url, DEMO)
        world = s.world(url=receiver.url, quantity=CLIENTS)
        app, senders = world["app"], ["+1" + n for n in world["tns"]]
        cfg = Config(target="sandbox", dashboard_url=f"{sb.url}/api", messaging_url=f"{sb.url}/api/v2",
                     account_id=DEMO["account_id"], site_id=DEMO["site_id"], username=DEMO["username"],
                     password=DEMO["password"], sandbox_url=sb.url)
        sampler = RssSampler(sb.pid)
        sampler.start()
        ids: list[str] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(k: int) -> None:
            m = MessagingClient(cfg)  # its own session (keep-alive connection pool)
            mine = range(k, MESSAGES, CLIENTS)
            for i in mine:
                try:
                    res = m.send_message(f"+1919{5550000 + i % 10000:07d}", f"load {i}", senders[k], app)
                except BandwidthError as exc:
                    with lock:
                        errors.append(str(exc))
                    continue
                with lock:
                    ids.append(res.id)

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
        t_sent = time.monotonic()
        deadline = t_sent + 150
        while len(receiver.acked) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        t_done = time.monotonic()
        # a late duplicate would be an outbox row posted again: once no row is pending (a row turns delivered only
        # after its POST was answered, so none is in flight either) the sandbox sends nothing more
        while _pending(sb.db) and time.monotonic() < deadline + 30:
            time.sleep(0.1)
        sampler.stop()

        with receiver.lock:
            got = Counter((e["message"]["id"], e["type"], e["to"]) for e in receiver.acked)
            requests_seen = len(receiver.requests)
        by_id = set(ids)
        for key in got:
            by_id.discard(key[0])
        lost = len(by_id)
        duplicated = sum(c - 1 for c in got.values() if c > 1)
        wrong = [k for k in got if k[1] != "message-delivered"]
        # the sandbox's own outbox: every row delivered, at the first attempt
        con = sqlite3.connect(f"file:{sb.db}?mode=ro", uri=True, timeout=30)
        statuses = dict(con.execute("SELECT status, COUNT(*) FROM callback_outbox GROUP BY status").fetchall())
        retried = con.execute("SELECT COUNT(*) FROM callback_outbox WHERE attempts > 1").fetchone()[0]
        attempts_logged = con.execute("SELECT COUNT(*) FROM callback_attempts").fetchone()[0]
        con.close()
        rss_mb = sampler.peak / 2**20
        send_s, total_s = t_sent - t0, t_done - t0
        for key, value in (("messages", MESSAGES), ("clients", CLIENTS), ("errors", len(errors)),
                           ("callbacks_expected", len(ids)), ("callbacks_received", sum(got.values())),
                           ("lost", lost), ("duplicated", duplicated), ("send_seconds", round(send_s, 1)),
                           ("total_seconds", round(total_s, 1)), ("send_throughput", round(len(ids) / send_s, 1)),
                           ("end_to_end_throughput", round(sum(got.values()) / total_s, 1)),
                           ("peak_rss_mb", round(rss_mb, 1)), ("start_rss_mb", round(sampler.start_rss / 2**20, 1))):
            record("load", key, value)
        item("load", f"sandbox: a separate `python -m bwhelpers.sandbox` process (sqlite WAL); clients: {CLIENTS} "
                     f"threads, each a bwhelpers MessagingClient with its own keep-alive session; receiver: a "
                     f"threaded HTTP server in the test process; all on 127.0.0.1, {os.cpu_count()} CPU(s)")
        item("load", f"sandbox outbox after the run: {statuses}; rows retried: {retried}; delivery attempts logged: "
                     f"{attempts_logged}; POSTs seen by the receiver: {requests_seen}; RSS samples: {sampler.samples}")
        assert not errors, errors[:5]
        assert len(ids) == MESSAGES and len(set(ids)) == MESSAGES
        assert lost == 0, f"{lost} messages got no callback"
        assert duplicated == 0, f"{duplicated} duplicated callbacks"
        assert not wrong, wrong[:5]
        assert statuses == {"delivered": MESSAGES}, statuses
        assert rss_mb < PEAK_RSS_LIMIT_MB, f"sandbox peak RSS {rss_mb:.0f} MiB"
    finally:
        sb.stop()
        receiver.down()
