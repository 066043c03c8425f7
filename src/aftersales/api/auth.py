"""API authentication: a personal token (``Authorization: Bearer as_...``) or the browser session."""

from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from aftersales.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser's session, with its CSRF check, only for a caller that sent a session cookie and
    no token: a bad or expired token is a 401 on every method (not a 403 "CSRF check Failed" from
    falling through to the session), and so is a call with no credentials at all."""

    def __call__(self, request):
        if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super().__call__(request)


token_auth = TokenAuth()
django_auth = BrowserSessionAuth()
api_auth = [token_auth, django_auth]
