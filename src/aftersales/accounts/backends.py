"""The authentication backend with a login throttle shared by every process and node (core.throttle
counts in the database), keyed on the real client address behind the trusted proxies."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from aftersales.accounts import services
from aftersales.core.throttle import client_ip


def client_address(request) -> str:
    """The client's address behind settings.TRUSTED_PROXIES (see core.throttle.client_ip)."""
    return client_ip(request)


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
            services.login_success_record(username=username, address=address)
        return user
