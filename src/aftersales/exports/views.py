"""The download of a background export (the link in the bell's notification)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from aftersales.core.errors import NotFound
from aftersales.exports import selectors
from aftersales.exports.writer import export_dir
from aftersales.web.export import XLSX


@login_required
@require_GET
def download(request, token: str):
    try:
        job = selectors.export_get(request.user, token)
    except NotFound as exc:
        raise Http404(exc.message) from None
    path = export_dir() / f"{job.token}.xlsx"
    if not path.exists():
        raise Http404(token)
    response = FileResponse(open(path, "rb"), content_type=XLSX, as_attachment=True, filename=unquote(job.filename))
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(unquote(job.filename))}"
    response["Cache-Control"] = "no-store"
    return response
