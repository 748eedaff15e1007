"""
bwhelpers.sandbox.media
~~~~~~~~~~~~~~~~~~~~~~~

Bandwidth's Media API (``/api/v2/users/{accountId}/media``): each account's uploaded files and the pictures that
arrive in inbound MMS, served back only with that account's credentials. :mod:`.models` is the model other areas
read (MMS sends, inbound pictures, the phone page).

Importing the package registers its sqlite schema (``models.SCHEMA``).
"""
from . import models  # noqa: F401  (registers the schema)
