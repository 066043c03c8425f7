"""API authentication: a personal token (``Authorization: Bearer as_...``) or the browser session."""

from __future__ import annotations

from ninja.security import HttpBearer, django_auth

from aftersales.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


token_auth = TokenAuth()
api_auth = [token_auth, django_auth]
