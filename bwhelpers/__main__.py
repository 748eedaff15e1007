"""``python -m bwhelpers``: lab | sandbox | receiver | status | diagnose | reset-state | run-notebooks | postman | workshop-config."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _print_frame(df) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 160,
                           "display.max_colwidth", 60):
        print(df.to_string(index=False) if len(df) else "(empty)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bwhelpers",
                                     description="Bandwidth Messaging 2.0 setup helpers.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("lab", help="open the walkthrough in JupyterLab (adds --allow-root for root; saves notebooks "
                   "without outputs)", add_help=False)
    sub.add_parser("sandbox", help="run the local sandbox (same as python -m bwhelpers.sandbox)", add_help=False)
    sub.add_parser("receiver", help="run the callback receiver for a real account (BW_RECEIVER_PORT, "
                   "BW_CALLBACK_BASE_URL)", add_help=False)
    sub.add_parser("status", help="show the saved state (IDs per step) as a table")
    sub.add_parser("diagnose", help="preflight: what would make messages fail, with fixes")
    p_reset = sub.add_parser("reset-state", help="forget the saved IDs of the current target (asks first)")
    p_reset.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p_run = sub.add_parser("run-notebooks", help="execute all notebooks headless, in order")
    p_run.add_argument("--out", default="artifacts/notebooks", help="folder for executed copies and HTML")
    p_run.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    p_run.add_argument("notebooks", nargs="*", help="only these notebooks (names or paths)")
    sub.add_parser("postman", help="export a Postman environment and collection", add_help=False)
    sub.add_parser("workshop-config", help="write a jupyterhub_config.py for a workshop (docs/workshop.md)",
                   add_help=False)

    if argv and argv[0] == "lab":
        from .lab import main as lab_main

        return lab_main(argv[1:])
    if argv and argv[0] == "sandbox":
        from .sandbox.__main__ import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv and argv[0] == "receiver":
        from .receiver.__main__ import main as receiver_main

        return receiver_main(argv[1:])
    if argv and argv[0] == "postman":
        from .postman import cli

        return cli(argv[1:])
    if argv and argv[0] == "workshop-config":
        from .workshop import main as workshop_main

        return workshop_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0

    from .exceptions import BandwidthError

    try:
        if args.command == "status":
            from . import connect
            from .tables import state_frame

            setup = connect()
            print(f"target: {setup.config.target}  profile: {setup.config.profile}")
            _print_frame(state_frame(setup))
            return 0
        if args.command == "diagnose":
            from . import connect

            setup = connect()
            from .tables import diagnose_frame

            checks = setup.diagnose()
            _print_frame(diagnose_frame(checks))
            return 0 if all(c["ok"] for c in checks) else 1
        if args.command == "reset-state":
            from .config import Config
            from .state import StateStore

            config = Config.resolve()  # pure: the profile name needs no sandbox
            if not args.yes:
                if not sys.stdin.isatty():
                    print("refusing to reset without confirmation: pass --yes", file=sys.stderr)
                    return 2
                answer = input(f"Forget all saved IDs for profile {config.profile!r}? "
                               "(objects on the server are not deleted) [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    print("nothing changed")
                    return 1
            StateStore().reset(config.profile)
            print(f"saved state for profile {config.profile!r} cleared")
            return 0
        if args.command == "run-notebooks":
            from .notebooks import run_notebooks

            try:
                return run_notebooks(out=args.out, only=args.notebooks or None, timeout=args.timeout)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
    except BandwidthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
