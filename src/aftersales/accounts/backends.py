"""The authentication backend with a login throttle shared by every worker (it counts in the database)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from aftersales.accounts import services


def client_address(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username", "")
        address = client_address(request)
        if services.login_is_throttled(username=username or "", address=address):
            # PermissionDenied stops Django from trying other backends and fails the login.
            raise PermissionDenied("too many failed logins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failure_record(username=username or "", address=address)
        else:
            services.login_success_record(username=username)
        return user
