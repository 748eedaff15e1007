"""
bwhelpers.sandbox.accounts
~~~~~~~~~~~~~~~~~~~~~~~~~~

The sandbox's accounts: the two documented demo accounts and :func:`create_account`.
"""
from __future__ import annotations

from .db import Database, hash_secret, token_digest
from . import clock, credentials
from .demo import DEMO, DEMO_B

__all__ = ["DEMO", "DEMO_B", "create_account", "disable_public_accounts"]


def create_account(db: Database, creds: dict[str, str], site_name: str = "Sandbox Site") -> None:
    """Create (or replace the credentials of) an account with one site.

    With ``client_id``/``client_secret`` in ``creds`` the account also gets that API credential
    (roles ``creds["roles"]``, default Messaging + Numbers).
    """
    now = clock.now(db)
    with db.transaction() as conn:
        row = conn.execute("SELECT account_id FROM accounts WHERE account_id=?", (creds["account_id"],)).fetchone()
        legacy = hash_secret(f"{creds['api_token']}:{creds['api_secret']}")
        if row is None:
            conn.execute(
                "INSERT INTO accounts (account_id, username, password_hash, user_id, legacy_hash, created, api_token) "
                "VALUES (?,?,?,?,?,?,?)",
                (creds["account_id"], creds["username"], hash_secret(creds["password"]), creds["user_id"],
                 legacy, now, token_digest(creds["api_token"])),
            )
        else:
            conn.execute(
                "UPDATE accounts SET username=?, password_hash=?, user_id=?, legacy_hash=?, api_token=? "
                "WHERE account_id=?",
                (creds["username"], hash_secret(creds["password"]), creds["user_id"], legacy, token_digest(creds["api_token"]),
                 creds["account_id"]),
            )
        if creds.get("site_id") and conn.execute(
                "SELECT 1 FROM sites WHERE site_id=?", (creds["site_id"],)).fetchone() is None:
            conn.execute("INSERT INTO sites VALUES (?,?,?,?,?)",
                         (creds["site_id"], creds["account_id"], site_name, "Created by the sandbox", now))
        if creds.get("client_id") and creds.get("client_secret"):
            credentials.set_credential(conn, creds["account_id"], creds["client_id"], creds["client_secret"],
                                        creds.get("roles"), description="Created by the sandbox")


def disable_public_accounts(db: Database) -> None:
    """Workshop mode: the README's public demo accounts (:data:`DEMO`, :data:`DEMO_B`) get no way in. A db that
    has them keeps their rows (objects may point at them) but their passwords, token secrets and API
    credentials stop working."""
    ids = (DEMO["account_id"], DEMO_B["account_id"])
    with db.transaction() as conn:
        conn.execute("UPDATE accounts SET password_hash='disabled', legacy_hash='disabled' WHERE account_id IN (?,?)",
                     ids)
        conn.execute("DELETE FROM api_credentials WHERE account_id IN (?,?)", ids)
