"""How a stored file (``core.models.StoredFile``: order attachments, article attachments) leaves
the site: always as a download with a safe name whose extension is the type its bytes showed."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.http import FileResponse


def download_name(attachment) -> str:
    """The name a download is saved under: the uploader's name without its path or extension, made
    safe (letters, digits, CJK, - and _), with the extension of the type its first bytes showed.
    ``report.html`` that is really a PDF downloads as ``report.pdf``; a name is never trusted."""
    stem = PurePosixPath((attachment.original_name or "").replace("\\", "/")).stem
    stem = re.sub(r"[^\w\-]+", "_", stem, flags=re.UNICODE).strip("._")[:80]
    return f"{stem or attachment.token}{attachment.extension}"


def download_response(attachment):
    """Every file leaves as a download (``attachment``), never rendered inline from the site's
    origin (a PDF or an image with script must not run as the site), with its detected type."""
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=download_name(attachment),
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
