"""
bwhelpers.sandbox.tendlc
~~~~~~~~~~~~~~~~~~~~~~~~

A2P readiness in 2026: 10DLC campaigns and their numbers (platform JSON API under
``/api/v2/accounts/{a}/tendlc``), TN Option Orders that assign numbers to a campaign (Dashboard
XML, ``/api/accounts/{a}/tnoptions``) and toll-free verification (``/api/v2/accounts/{a}/...
tollFreeVerification``). The messaging area asks :func:`models.a2p_block` before it delivers.

Importing the package registers its sqlite schema (``models.SCHEMA``).
"""
from . import models  # noqa: F401  (registers the schema)
