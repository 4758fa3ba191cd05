"""A workspace's security settings: for now, whether its members must use two-factor sign-in.

Devices themselves (the authenticator-app secret and the backup codes) are django-otp's models,
``otp_totp.TOTPDevice`` and ``otp_static.StaticDevice``. Rows here are written only through
``twofactor.services`` (capability check, one audit event per change). A workspace without a row
does not require two-factor authentication.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WorkspaceSecurity(models.Model):
    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="security")
    two_factor_required = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "workspace security"
        verbose_name_plural = "workspace security"

    def __str__(self):
        return f"Security of workspace #{self.workspace_id}"
