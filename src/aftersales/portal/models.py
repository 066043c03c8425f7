"""The customer's phone portal (客户自助服务): the SMS login codes. Everything else the portal shows
or changes lives in the registry and the service orders; the portal only adds the way in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginCode(models.Model):
    """短信验证码: a 6-digit code sent to a customer's phone to open the portal. Only an HMAC of the
    code is stored (keyed by the site secret and the phone), so the table alone opens nothing."""

    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, as in the customer's phones."))
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    failures = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal login code")
        verbose_name_plural = _("portal login codes")
        # The login asks for the newest code of one phone.
        indexes = [models.Index(fields=["phone", "-created_at"], name="portal_code_phone_idx")]

    def __str__(self) -> str:
        return f"#{self.pk}"


class PortalToken(models.Model):
    """门户令牌: the bearer token a customer's phone app (a WeChat mini-program, an app) holds after the
    SMS-code login, for the portal API only. It stands for the proved phone, as the /m/ pages'
    session does (the portal's "user" is the phone; see portal.selectors). Only a SHA-256 of the key
    is kept; it expires, and the customer's logout revokes it. Not accounts.ApiToken: that one is a
    staff user's, and a customer has no user."""

    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, as in the customer's phones."))
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal token")
        verbose_name_plural = _("portal tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"
