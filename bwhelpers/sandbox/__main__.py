"""``python -m bwhelpers.sandbox``: run the sandbox in the foreground until Ctrl-C or SIGTERM."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Sequence

from .accounts import DEMO


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bwhelpers.sandbox",
                                description="Local emulator of the Bandwidth Dashboard and Messaging v2 APIs.")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 = any free port)")
    p.add_argument("--db", default=None, help="SQLite file (default .bwhelpers/sandbox.db in the project)")
    for key in ("account_id", "site_id", "username", "password", "user_id"):
        p.add_argument(f"--{key.replace('_', '-')}", dest=key, default=None,
                       help=f"demo account {key.replace('_', ' ')} (default {DEMO[key]!r})"
                       if key != "password" else "demo account password (default: the documented demo one)")
    p.add_argument("--password-file", default=None,
                   help="read the demo account password from this file (or set BW_SANDBOX_PASSWORD; "
                        "--password is visible to every user in `ps`)")
    p.add_argument("--api-token", dest="api_token", default=None, help="legacy messaging API token")
    p.add_argument("--api-secret", dest="api_secret", default=None, help="legacy messaging API secret")
    p.add_argument("--api-secret-file", default=None,
                   help="read the legacy API secret from this file (or set BW_SANDBOX_API_SECRET)")
    p.add_argument("--admin-key-file", default=None,
                   help="file holding the control plane's admin key (default: <db>.admin-key, created 0600 "
                        "at the first start); shared setups keep it where only the operator can read it")
    p.add_argument("--allow-host", dest="allow_hosts", action="append", default=[], metavar="NAME",
                   help="also answer requests whose Host is NAME (repeatable; 127.0.0.1 and localhost always; "
                        "'*' turns the DNS-rebinding guard off, only behind a trusted proxy)")
    p.add_argument("--client-id", dest="client_id", default=None,
                   help=f"API credential (OAuth 2.0) client id (default {DEMO['client_id']!r})")
    p.add_argument("--client-secret", dest="client_secret", default=None,
                   help="API credential client secret (default: the documented demo one)")
    p.add_argument("--client-secret-file", default=None,
                   help="read the API credential client secret from this file (or set BW_SANDBOX_CLIENT_SECRET)")
    p.add_argument("--order-delay", type=float, default=None,
                   help="seconds an order stays RECEIVED before it completes (default 2; 0 = immediate)")
    p.add_argument("--a2p-enforcement", choices=("on", "off"), default=None,
                   help="2026 carrier rules: on (default) fails texts from numbers without a 10DLC campaign "
                        "(4476) or toll-free verification (4795); off replays the 2018 guide")
    p.add_argument("--reset", action="store_true", help="wipe all sandbox state first")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return p


def _secret(path: str | None, env: str, option: str) -> str | None:
    """A secret from a file (first line) or an env var, so it never shows in ``ps``."""
    import os

    if path:
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as fh:
                value = fh.readline().strip()
        except OSError as exc:
            raise SystemExit(f"error: {option} {path}: {exc.strerror or exc}") from None
        if not value:
            raise SystemExit(f"error: {option} {path}: the file is empty")
        return value
    return os.environ.get(env) or None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .server import configure_logging

    configure_logging(args.log_level)
    from .db import default_db_path
    from .server import SandboxServer, prepare_db

    creds = dict(DEMO)
    custom = False
    secrets_given = {"password": _secret(args.password_file, "BW_SANDBOX_PASSWORD", "--password-file"),
                     "api_secret": _secret(args.api_secret_file, "BW_SANDBOX_API_SECRET", "--api-secret-file"),
                     "client_secret": _secret(args.client_secret_file, "BW_SANDBOX_CLIENT_SECRET",
                                              "--client-secret-file")}
    for key in DEMO:
        value = getattr(args, key, None) or secrets_given.get(key)
        if value:
            creds[key] = value
            custom = True
    hidden_password = bool(args.password or secrets_given["password"])
    hidden_secret = bool(args.api_secret or secrets_given["api_secret"])
    hidden_client_secret = bool(args.client_secret or secrets_given["client_secret"])
    settings: dict[str, object] = {}
    if args.order_delay is not None:
        settings["order_transition"] = ({"mode": "immediate"} if args.order_delay <= 0
                                        else {"mode": "seconds", "seconds": args.order_delay})
    if args.a2p_enforcement is not None:
        settings["a2p_enforcement"] = args.a2p_enforcement == "on"
    db_path = args.db or str(default_db_path())
    from .keys import admin_key_path, ensure_admin_key

    try:
        admin_key = ensure_admin_key(db_path, args.admin_key_file)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    key_file = args.admin_key_file or str(admin_key_path(db_path))
    db = prepare_db(db_path, accounts=[creds] if custom else None, reset=args.reset, settings=settings)
    server = SandboxServer(db, host=args.host, port=args.port, admin_key=admin_key, allow_hosts=args.allow_hosts)

    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    import threading

    def _announce() -> None:
        if not server.wait_ready():
            return
        shown = "(custom, not shown)" if hidden_password else creds["password"]
        print(f"Bandwidth sandbox listening on {server.url}", flush=True)
        print(f"  Dashboard API : {server.url}/api/accounts/{creds['account_id']}/...", flush=True)
        print(f"  Messaging API : {server.url}/api/v2/users/{creds['account_id']}/messages", flush=True)
        print(f"  Legacy (guide): {server.url}/v2/users/{creds['user_id']}/messages", flush=True)
        print(f"  account {creds['account_id']}  site {creds['site_id']}  "
              f"user {creds['username']} / {shown}", flush=True)
        print(f"  legacy user id {creds['user_id']}  token {creds['api_token'] if not args.api_token else '(custom)'}"
              f"  secret {creds['api_secret'] if not hidden_secret else '(custom, not shown)'}", flush=True)
        print(f"  OAuth token   : POST {server.url}/api/v1/oauth2/token  client id {creds['client_id']} / "
              f"{creds['client_secret'] if not hidden_client_secret else '(custom, not shown)'}", flush=True)
        print(f"  state db      : {db_path}  (Ctrl-C to stop)", flush=True)
        # never the key itself: terminals and logs end up on projectors and in bug reports (review 24d)
        print(f"  admin key     : in {key_file} (not shown; read automatically by local kernels, the CLI and "
              "tests; header X-Sandbox-Admin-Key)", flush=True)

    threading.Thread(target=_announce, daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
