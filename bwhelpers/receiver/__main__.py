"""``python -m bwhelpers receiver``: run the callback receiver in the foreground."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from . import BASE_URL_ENV, DEFAULT_PORT, INBOUND_PATH, OUTBOUND_PATH, PORT_ENV, ReceiverPortError, \
        configured_port, probe, verify
    from .credentials import CredentialsError, credentials_path, load_or_create
    from .server import MAX_BODY, RATE, ReceiverServer
    from .store import EventStore, default_db_path

    parser = argparse.ArgumentParser(prog="python -m bwhelpers receiver",
                                     description="Receive Bandwidth's message callbacks and keep them for the "
                                                 "walkthrough (stored once each, served to this machine only).")
    parser.add_argument("--port", help=f"local port (default {PORT_ENV}, else {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1: a tunnel or reverse proxy on this machine "
                             "forwards Bandwidth's requests)")
    parser.add_argument("--db", help="sqlite file of the events (default BW_RECEIVER_DB, else the config folder)")
    parser.add_argument("--max-body", type=int, default=MAX_BODY, help="largest callback body in bytes (413 above)")
    parser.add_argument("--rate", type=float, default=RATE, help="callbacks per second accepted (429 above)")
    parser.add_argument("--tunnel", choices=("cloudflared", "ngrok"),
                        help="also open a public https URL to the receiver: a cloudflared quick tunnel (the binary, "
                             "no account) or ngrok (pip install 'bwhelpers[tunnel]', NGROK_AUTHTOKEN)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        port = configured_port(args.port)
        creds = load_or_create()
    except (ReceiverPortError, CredentialsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{port}"
    if probe(url, timeout=0.5) is not None:
        if verify(url, creds.key):
            print(f"a receiver of yours is already running at {url}; nothing to do")
            return 0
    try:  # the port first: nothing is announced for a port another program holds
        _try_port(args.host, port)
    except OSError as exc:
        from . import _port_taken

        print(f"error: {_port_taken(port, exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    db = args.db or str(default_db_path())
    store = EventStore(db)
    server = ReceiverServer(store, creds, host=args.host, port=port, max_body=args.max_body, rate=args.rate)
    base = os.environ.get(BASE_URL_ENV, "").rstrip("/")
    tunnel = None
    if args.tunnel:
        from .tunnel import TunnelError, open_tunnel

        try:
            tunnel = open_tunnel(args.tunnel, port)
        except TunnelError as exc:
            store.close()
            print(f"error: {exc}", file=sys.stderr)
            return 2
        base = tunnel.public_url
        print(f"{args.tunnel} tunnel: {base} -> {url}")
        print(f"set it for the notebooks (then restart their kernels): export {BASE_URL_ENV}={base}")
    print(f"callback receiver on {url} (events in {db})")
    print(f"credentials: {credentials_path()} (0600; bwhelpers sets them on the application, they are never shown)")
    if base:
        print(f"application URLs: {base}{INBOUND_PATH} (inbound) and {base}{OUTBOUND_PATH} (outbound)")
    else:
        print(f"{BASE_URL_ENV} is not set: give Bandwidth a public URL that reaches this port (README, 'Using a "
              "real Bandwidth account'), then set it")
    def _term(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    try:
        server.run()
    except OSError as exc:
        from . import _port_taken

        print(f"error: {_port_taken(port, exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if tunnel is not None:
            tunnel.close()
        store.close()
    return 0


def _try_port(host: str, port: int) -> None:
    """Bind and release ``host:port`` as the server will (OSError when another program holds it)."""
    import socket

    import tornado.netutil

    for sock in tornado.netutil.bind_sockets(port, host, family=socket.AF_INET):
        sock.close()


if __name__ == "__main__":
    sys.exit(main())

