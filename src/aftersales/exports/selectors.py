"""Reads of the exports app: a user sees only the exports they asked for (another's is a 404)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound
from aftersales.exports.models import ExportFile, ExportStatus


def export_get(user, token: str) -> ExportFile:
    found = ExportFile.objects.filter(user=user, token=token, status=ExportStatus.DONE).first()
    if found is None:
        raise NotFound(_("Export not found."))
    return found
