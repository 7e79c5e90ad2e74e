"""Serving on this machine the way production serves (``make run``): DEBUG off.

Production settings minus what needs TLS and a real host name (secure cookies,
HTTPS redirect, HSTS) and minus the external database: this is what a
newcomer runs, on the embedded PostgreSQL, with the demo data. Static files
are collected (``collectstatic``) and served by whitenoise from the manifest,
as in production.
"""

from .base import *  # noqa: F403

DEBUG = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
