"""The sandbox's two documented demo accounts (README, docs/ARCHITECTURE.md): public and fake.

A leaf module, so a client that only needs to know them (``bwhelpers.sandbox.ensure_running``) does not import the
sandbox's accounts store and its token signing (PyJWT, cryptography).
"""
from __future__ import annotations

__all__ = ["DEMO", "DEMO_B"]

#: The documented demo account (README, docs/ARCHITECTURE.md). Public and fake.
DEMO = {
    "account_id": "9900000",
    "site_id": "9901",
    "username": "sandbox-user",
    "password": "sandbox-password",
    "user_id": "u-sandbox",
    "api_token": "t-sandbox",
    "api_secret": "s-sandbox",
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
}
#: A second account, for tenant-isolation tests and demos.
DEMO_B = {
    "account_id": "9900001",
    "site_id": "9911",
    "username": "sandbox-user-b",
    "password": "sandbox-password-b",
    "user_id": "u-sandbox-b",
    "api_token": "t-sandbox-b",
    "api_secret": "s-sandbox-b",
    "client_id": "sandbox-client-id-b",
    "client_secret": "sandbox-client-secret-b",
}
