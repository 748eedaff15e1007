"""wrk (https://github.com/wg/wrk) driving one POST at a fixed number of connections, parsed."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Lua string literal for this ASCII content


def _ms(value: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run(url: str, body: Any, headers: dict[str, str], connections: int, seconds: float,
        threads: int = 1) -> WrkResult:
    """``wrk -t threads -c connections -d seconds --latency`` POSTing ``body`` (JSON) with ``headers``."""
    script = ["wrk.method = \"POST\"", f"wrk.body = {_lua(json.dumps(body))}",
              "wrk.headers[\"Content-Type\"] = \"application/json\""]
    script += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()]
    with tempfile.TemporaryDirectory(prefix="bwbench-wrk-") as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text("\n".join(script) + "\n")
        proc = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                               "-s", str(lua), url], capture_output=True, text=True, timeout=seconds + 60)
    out = proc.stdout
    if proc.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {(proc.stderr or out).strip()[-300:]}")
    done = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    non2 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert done and rps
    return WrkResult(requests=int(done.group(1)), seconds=_ms(done.group(2) + done.group(3)) / 1000,
                     rps=float(rps.group(1)), p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
                     p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
                     non_2xx=int(non2.group(1)) if non2 else 0,
                     errors=sum(int(x) for x in errs.groups()) if errs else 0)
