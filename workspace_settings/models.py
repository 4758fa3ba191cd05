"""Workspace settings: IP blocking, integrations, user attributes and data-collection policies.
(Single sign-on is the ``sso`` app's.)

Rows are written only through ``workspace_settings.services`` (capability check, one audit event
per change). A setting without a row has its default: the catalogues in ``integrations`` and
``attributes`` and the field defaults of ``WorkspacePolicy`` say what that is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .attributes import ATTRIBUTE_CHOICES
from .integrations import INTEGRATION_CHOICES


class IPBlockRule(models.Model):
    """An address or range whose visits are not tracked. ``network`` is canonical CIDR text
    (``10.0.0.0/8``, ``2001:db8::/32``, one address as /32 or /128), so a range written two ways
    is one row and the unique constraint catches it."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="ip_block_rules")
    network = models.CharField(max_length=64)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network"]
        verbose_name = "IP block rule"
        constraints = [models.UniqueConstraint(fields=["workspace", "network"], name="ip_block_rule_unique")]

    def __str__(self):
        return self.network


class IntegrationSetting(models.Model):
    """One integration of the fixed catalogue, switched on or off, with its settings."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="integrations")
    key = models.CharField(max_length=40, choices=INTEGRATION_CHOICES)
    enabled = models.BooleanField(default=False)
    settings = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="integration_setting_unique")]

    def __str__(self):
        return self.get_key_display()


class UserAttributeSetting(models.Model):
    """Whether one attribute of the fixed catalogue is collected about tracked people."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="user_attributes")
    key = models.CharField(max_length=40, choices=ATTRIBUTE_CHOICES)
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="user_attribute_setting_unique")]

    def __str__(self):
        return self.get_key_display()


RETENTION_CHOICES = [
    (30, "30 days"),
    (90, "90 days"),
    (180, "6 months"),
    (365, "1 year"),
    (730, "2 years"),
    (1095, "3 years"),
]


class WorkspacePolicy(models.Model):
    """The workspace's data-collection policies, one row (absent until first changed)."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="data_policy")
    retention_days = models.PositiveIntegerField(
        "keep collected data for",
        choices=RETENTION_CHOICES,
        default=365,
        help_text="Older events, recordings and heatmaps are deleted by the platform.",
    )
    anonymize_ip = models.BooleanField(
        "anonymise IP addresses", default=True, help_text="Drop the last part of visitors' IP addresses before storing."
    )
    respect_do_not_track = models.BooleanField(
        "respect Do-Not-Track", default=True, help_text="Do not track visitors whose browser sends Do-Not-Track."
    )
    require_cookie_consent = models.BooleanField(
        "require cookie consent", default=False, help_text="Track only after the visitor accepts cookies."
    )
    mask_text_input = models.BooleanField(
        "mask typed text in recordings", default=True, help_text="Recordings show what visitors type as asterisks."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    POLICY_FIELDS = (
        "retention_days",
        "anonymize_ip",
        "respect_do_not_track",
        "require_cookie_consent",
        "mask_text_input",
    )

    class Meta:
        verbose_name = "data-collection policy"
        verbose_name_plural = "data-collection policies"

    def __str__(self):
        return "Data-collection policy"

    def state(self) -> dict:
        return {name: getattr(self, name) for name in self.POLICY_FIELDS}
