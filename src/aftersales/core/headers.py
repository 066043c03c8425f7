"""Response headers every answer with customer data needs.

``Cache-Control: no-store``: pages and API answers carry names, numbers and addresses; a shared
computer's browser cache or a proxy must not keep them. Static files (whitenoise answers before
this middleware sees the request) and the public health check keep their own caching.
"""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers, patch_cache_control

# Paths whose answers hold no customer data and may be cached as their views say.
_CACHEABLE_PREFIXES = ("/static/", "/healthz")


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(_CACHEABLE_PREFIXES):
            return response
        add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private; Expires now
        patch_cache_control(response, no_store=True, private=True)
        return response
