"""OAuth 2.0 client credentials: the token endpoint ``POST /api/v1/oauth2/token``.

Its state, the API credentials of each account and the access tokens, is :mod:`bwhelpers.sandbox.credentials`
(shared: :func:`bwhelpers.sandbox.auth.authenticate` checks tokens with ``credentials.verify_token`` on every
API, accounts and the control plane create and list credentials).
"""
from .. import credentials  # noqa: F401  (registers the schema)

