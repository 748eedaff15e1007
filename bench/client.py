"""3. Client: N sequential sends with bwhelpers vs the official bandwidth-sdk, then bulk send."""
from __future__ import annotations

import time
from typing import Any

from .common import Row, SandboxProcess, Stat, provision, recipients, workdir

#: (client, CPU seconds of this process) per timed loop: the client's own cost, without the server's
CPU: list[tuple[str, float]] = []


def _bwhelpers_sequential(cfg: Any, app_id: str, frm: str, to: list[str]) -> tuple[float, list[str]]:
    from bwhelpers.messaging import MessagingClient

    client = MessagingClient(cfg)
    ids = []
    c0, t0 = time.process_time(), time.perf_counter()
    for number in to:
        ids.append(client.send_message(number, "bench client", frm, app_id).id)
    CPU.append(("ours", time.process_time() - c0))
    return time.perf_counter() - t0, ids


def _sdk_sequential(cfg: Any, app_id: str, frm: str, to: list[str]) -> tuple[float, list[str]]:
    from bandwidth import ApiClient, Configuration
    from bandwidth.api.messages_api import MessagesApi
    from bandwidth.models.message_request import MessageRequest

    conf = Configuration(host=f"{cfg.messaging_url}", username=cfg.username, password=cfg.password,
                         ignore_operation_servers=True)
    api = MessagesApi(ApiClient(conf))
    ids = []
    c0, t0 = time.process_time(), time.perf_counter()
    for number in to:
        msg = api.create_message(cfg.account_id, MessageRequest(application_id=app_id, to=[number], var_from=frm,
                                                                text="bench client"))
        ids.append(msg.id)
    CPU.append(("sdk", time.process_time() - c0))
    return time.perf_counter() - t0, ids


def _bulk(cfg: Any, app_id: str, frm: str, to: list[str], concurrency: int) -> tuple[float, Any]:
    from bwhelpers.messaging import MessagingClient
    from bwhelpers.tables import bulk_frame

    client = MessagingClient(cfg)
    t0 = time.perf_counter()
    df = bulk_frame(client.bulk_send(to, text="bench bulk", from_=frm, application_id=app_id,
                                     concurrency=concurrency, progress=False))
    return time.perf_counter() - t0, df


def run(smoke: bool = False, repeat: int = 3) -> list[Row]:
    n = 40 if smoke else 1000
    repeat = 1 if smoke else repeat
    concurrency = 8
    ours, sdk, bulk = [], [], []
    bulk_ok = True
    with workdir() as tmp, SandboxProcess(tmp / "sandbox.db") as sb:
        info = provision(sb.url, tmp / "state.json")
        cfg, app_id, frm = info["config"], info["application_id"], info["number"]
        to = recipients(n)
        # warm both clients (connections, lazy imports) outside the timed loops
        _bwhelpers_sequential(cfg, app_id, frm, to[:5])
        _sdk_sequential(cfg, app_id, frm, to[:5])
        _bulk(cfg, app_id, frm, to[:5], concurrency)
        CPU.clear()
        for i in range(repeat):
            # alternate the order so neither always runs on a warmer/cooler machine
            pair = [("ours", _bwhelpers_sequential), ("sdk", _sdk_sequential)]
            for name, fn in (pair if i % 2 == 0 else pair[::-1]):
                seconds, ids = fn(cfg, app_id, frm, to)
                if len(set(ids)) != n:
                    raise RuntimeError(f"{name}: {len(set(ids))} distinct ids for {n} sends")
                (ours if name == "ours" else sdk).append(seconds)
            seconds, df = _bulk(cfg, app_id, frm, to, concurrency)
            bulk.append(seconds)
            bulk_ok = bulk_ok and bool((df["status"] == "accepted").all()) and df["id"].nunique() == n
    o, s, b = Stat(ours), Stat(sdk), Stat(bulk)
    cpu_o = Stat([c / n * 1000 for who, c in CPU if who == "ours"])
    cpu_s = Stat([c / n * 1000 for who, c in CPU if who == "sdk"])
    settings = (f"{n} sends, one recipient each (validated, JSON), same sandbox subprocess, keep-alive, repeat "
                f"{repeat} (order alternated); client CPU = this process's CPU time per send (the server's "
                f"time is in the wall time of both)")
    return [
        Row(key="3a", measure=f"Client: {n} sequential sends, bwhelpers vs bandwidth-sdk",
            ours=f"bwhelpers MessagingClient.send_message: {o.fmt('s')} ({n / o.median:,.0f} msg/s); client "
                 f"CPU {cpu_o.fmt('ms/send')}",
            peer=f"bandwidth-sdk MessagesApi.create_message: {s.fmt('s')} ({n / s.median:,.0f} msg/s); client "
                 f"CPU {cpu_s.fmt('ms/send')}",
            ratio=Stat([b_ / a for a, b_ in zip(ours, sdk)]), ratio_note="× faster (sdk time / ours)",
            settings=settings, goal=(">=", 1.5),
            values={"ours_s": o.median, "sdk_s": s.median, "ours_cpu_ms": cpu_o.median,
                    "sdk_cpu_ms": cpu_s.median}),
        Row(key="3c", measure="Client CPU per send, bwhelpers vs bandwidth-sdk (same checks as today)",
            ours=f"bwhelpers MessagingClient.send_message: {cpu_o.fmt('ms/send')}",
            peer=f"bandwidth-sdk MessagesApi.create_message: {cpu_s.fmt('ms/send')}",
            ratio=Stat([a / b_ for a, b_ in zip(cpu_o.samples, cpu_s.samples)]),
            ratio_note="× (ours/sdk CPU per send; lower is better)",
            settings=f"{settings}; ours validates the message (E.164 parsing, owner id and URL checks), builds the "
                     f"Result and its masked Exchange, and sends an OAuth Bearer token; ratio per repeat pair",
            goal=("<=", 0.67), values={"ours_cpu_ms": cpu_o.median, "sdk_cpu_ms": cpu_s.median}),
        Row(key="3b", measure=f"Client: {n} sends with bulk_send (concurrency {concurrency}) vs sequential",
            ours=f"bwhelpers bulk_send: {b.fmt('s')} ({n / b.median:,.0f} msg/s)"
                 + ("" if bulk_ok else "; NOT all accepted/distinct"),
            peer=f"bwhelpers sequential: {o.fmt('s')}",
            ratio=Stat([a / b_ for a, b_ in zip(ours, bulk)]), ratio_note="× faster (sequential / bulk)",
            settings=f"{settings}; bulk_send(recipients, text, concurrency={concurrency}, progress=False), "
                     f"no rate limit",
            values={"bulk_s": b.median, "all_accepted": float(bulk_ok)}),
    ]
