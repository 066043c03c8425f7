"""The error format for answers that never reach an API operation: an unknown path under /api/
(Django's HTML 404), a method the path does not take (ninja's plain-text 405), a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (refused before it is read: 413) and anything else Django answers
in HTML (a 400 from a suspicious request, a 500). Operations answer in the format themselves
(api/main.py); this middleware only rewrites what is not JSON already, in the request's language
(it sits after LocaleMiddleware)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse

from aftersales.api.errors import error_body, http_code, http_message

API_PREFIX = "/api/"


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        too_big = self._refuse_oversize(request)
        if too_big is not None:
            return too_big
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            response = self._as_json(response)
        return response

    @staticmethod
    def _refuse_oversize(request):
        # A JSON body is read whole into memory: refuse it by its declared length before reading.
        # Uploads (multipart) stream to disk and the attachment service enforces its own limit.
        if request.content_type == "multipart/form-data":
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            from aftersales.api.main import too_large_body

            return JsonResponse(too_large_body(), status=413, json_dumps_params={"ensure_ascii": False})
        return None

    @staticmethod
    def _as_json(response):
        status = response.status_code
        body = error_body(http_code(status), http_message(status))
        out = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
        if response.has_header("Allow"):
            out["Allow"] = response["Allow"]
            allowed = ", ".join(m.strip() for m in response["Allow"].split(","))
            out.content = json.dumps({**body, "errors": [{"field": "method", "message": allowed}]},
                                     ensure_ascii=False).encode()
        if response.has_header("Retry-After"):
            out["Retry-After"] = response["Retry-After"]
        return out
