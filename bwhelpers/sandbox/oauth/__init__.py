"""OAuth 2.0 client credentials: ``POST /api/v1/oauth2/token`` and the API credentials of each account.

Importing the package registers its sqlite schema (``models.SCHEMA``). Token *checking* on the
Dashboard and Messaging endpoints happens in :func:`bwhelpers.sandbox.core.authenticate`, which
uses :func:`models.verify_token`.
"""
from . import models  # noqa: F401  (registers the schema)
