"""5. Rate-limited bulk send: sandbox ``rate_limit_per_second`` = R, N messages via ``bulk_send``.

Reports the achieved rate as a fraction of R, and checks against the sandbox's own record that every
row was stored exactly once (nothing lost, nothing duplicated).
"""
from __future__ import annotations

import collections
import time
from typing import Any

from .common import Row, SandboxProcess, Stat, provision, recipients, workdir


def _all_messages(sb: Any, account_id: str) -> list[dict[str, Any]]:
    """Every stored message of the account: the control plane's pages (bounded in bytes) walked by their ``next``."""
    stored: list[dict[str, Any]] = []
    before = None
    while True:
        page = sb.get_json(f"/_sandbox/messages?accountId={account_id}" + (f"&before={before}" if before else ""))
        stored.extend(page["messages"])
        before = page.get("next")
        if not before:
            return stored


def _one(n: int, rate_limit: int, client_rate: float | None, concurrency: int, tag: str) -> dict[str, Any]:
    import pandas as pd
    from bwhelpers.messaging import MessagingClient
    from bwhelpers.tables import bulk_frame

    with workdir() as tmp, SandboxProcess(tmp / "sandbox.db") as sb:
        info = provision(sb.url, tmp / "state.json")
        cfg = info["config"]
        sb.settings({"rate_limit_per_second": rate_limit})
        rows = pd.DataFrame({"to": recipients(n), "text": [f"{tag} {i}" for i in range(n)]})
        client = MessagingClient(cfg)
        time.sleep(1.0 - (time.time() % 1.0))  # start on a fresh one-second window of the sandbox
        t0 = time.perf_counter()
        df = bulk_frame(client.bulk_send(rows, from_=info["number"], application_id=info["application_id"],
                                         concurrency=concurrency, rate=client_rate, progress=False))
        seconds = time.perf_counter() - t0
        stored = _all_messages(sb, cfg.account_id)
    texts = collections.Counter(m.get("text") for m in stored)
    expected = set(rows["text"])
    ids = [i for i in df["id"] if isinstance(i, str)]
    lost = sum(1 for t in expected if texts.get(t, 0) == 0)
    dup = sum(c - 1 for t, c in texts.items() if t in expected and c > 1)
    return {
        "seconds": seconds, "achieved": n / seconds, "fraction": (n / seconds) / rate_limit,
        "accepted": int((df["status"] == "accepted").sum()), "lost": lost, "duplicated": dup,
        "ids_match": set(ids) == {m["id"] for m in stored} and len(ids) == len(set(ids)) == n,
        "retries_429": int((df["attempts"] - 1).clip(lower=0).sum()),
    }


def run(smoke: bool = False, repeat: int = 3) -> list[Row]:
    rate_limit, n = (20, 30) if smoke else (50, 400)
    repeat = 1 if smoke else repeat
    concurrency = 4
    cases = (
        ("5a", "bulk_send(rate=R) paces itself", float(rate_limit)),
        ("5b", "bulk_send without a rate: 429 + Retry-After only", None),
    )
    out = []
    for key, label, client_rate in cases:
        runs = [_one(n, rate_limit, client_rate, concurrency, f"bench-{key}-{i}") for i in range(repeat)]
        frac = Stat([r["fraction"] for r in runs])
        ach = Stat([r["achieved"] for r in runs])
        lost = sum(r["lost"] for r in runs)
        dup = sum(r["duplicated"] for r in runs)
        accepted = sum(r["accepted"] for r in runs)
        ids_ok = all(r["ids_match"] for r in runs)
        retries = Stat([float(r["retries_429"]) for r in runs])
        integrity = ("no message lost or duplicated" if lost == dup == 0 and ids_ok and accepted == n * repeat
                     else f"LOST {lost}, DUPLICATED {dup}, accepted {accepted}/{n * repeat}, ids match: {ids_ok}")
        out.append(Row(
            key=key, measure=f"Rate-limited bulk send: {label}",
            ours=f"{ach.fmt('msg/s', 1)}; {integrity}; 429 re-sends {retries.fmt(digits=0)}",
            peer=f"R = {rate_limit} msg/s (sandbox rate_limit_per_second)",
            ratio=frac, ratio_note="of R (achieved/R)",
            settings=(f"N = {n} rows (DataFrame of to,text), concurrency {concurrency}, client rate "
                      f"{'R' if client_rate else 'none'}; checked against GET /_sandbox/messages; fresh sandbox "
                      f"subprocess per run, repeat {repeat}"),
            goal=(">=", 0.9),
            values={"fraction": frac.median, "lost": float(lost), "duplicated": float(dup),
                    "achieved": ach.median}))
    return out
