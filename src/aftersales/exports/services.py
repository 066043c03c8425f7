"""Writes of the exports app: a large export is queued as its requester; the worker writes it
(exports.writer) and tells the requester in the inbox (the bell)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import translation

from aftersales.exports.models import ExportFile
from aftersales.exports.tasks import write_export


def export_request(*, user, path: str) -> ExportFile:
    """Queue the export of the page at ``path`` (its query string with ``export=xlsx``) for ``user``."""
    with transaction.atomic():
        job = ExportFile.objects.create(user=user, token=secrets.token_hex(16), path=path[:2000],
                                        language=translation.get_language() or settings.LANGUAGE_CODE)
        transaction.on_commit(lambda: write_export.enqueue(job.pk))
    return job
