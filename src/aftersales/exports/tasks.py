"""Background work of the exports app, run by `aftersales worker` (it runs every queued task)."""

from __future__ import annotations

from django_tasks import task

from aftersales.exports.writer import export_write


@task()
def write_export(export_id: int) -> str:
    return export_write(export_id=export_id).status
