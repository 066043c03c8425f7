"""The worker's half of a large export: the page's own view runs again as its requester (the same
selector, filters and phone rule decide every cell), the workbook goes to a file under
``AFTERSALES_VAR_DIR/exports``, and the requester is told in the inbox (the bell)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone, translation

from aftersales.exports.models import ExportFile, ExportStatus
from aftersales.notify.inbox import inbox_add_many


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_write(*, export_id: int) -> ExportFile:
    """Run the page's view as its requester with the export forced inline, keep the workbook and
    tell the requester. A failure is recorded and told too (the requester is not left waiting)."""
    job = ExportFile.objects.select_related("user").get(pk=export_id)
    if job.status != ExportStatus.QUEUED:
        return job  # a retried task: written already
    target = export_dir() / f"{job.token}.xlsx"
    with translation.override(job.language):
        request = RequestFactory().get(job.path)
        request.user = job.user
        request.LANGUAGE_CODE = job.language
        request.export_inline = True  # web.export.orders_export: write it here, do not queue it again
        try:
            match = resolve(request.path_info)
            response = match.func(request, *match.args, **match.kwargs)
            if response.status_code != 200 or not getattr(response, "streaming", False):
                raise ValueError(f"HTTP {response.status_code}")
            with open(target, "wb") as out:
                for chunk in response.streaming_content:
                    out.write(chunk)
            # Not response.close(): that sends request_finished, which closes the worker's database connection.
            response.file_to_stream.close()
        except Exception as exc:  # noqa: BLE001 - recorded on the row and told to the requester
            return _finish(job, status=ExportStatus.FAILED, error=repr(exc)[:300])
    disposition = response.get("Content-Disposition", "")
    filename = disposition.split("''", 1)[1] if "''" in disposition else f"{job.token}.xlsx"
    return _finish(job, status=ExportStatus.DONE, filename=filename, size=target.stat().st_size,
                   rows=getattr(response, "export_rows", None))


def _finish(job: ExportFile, *, status: str, **fields) -> ExportFile:
    with transaction.atomic():
        ExportFile.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
        kind = "inbox_export_ready" if status == ExportStatus.DONE else "inbox_export_failed"
        inbox_add_many([(job.user_id, None, kind, {"export": job.token,
                                                   "name": unquote(fields.get("filename", "")) or job.path})])
    job.refresh_from_db()
    return job
