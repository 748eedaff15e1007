"""The Dashboard (Iris) XML API area: applications, sites, locations, messaging features, numbers.

Importing the package registers its sqlite schema (``models.SCHEMA``).
"""
from . import models  # noqa: F401  (registers the schema)
