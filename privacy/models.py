"""Data & privacy requests (seed 002): a member asks for the export or the deletion of one tracked
person's data on one site; platform staff carry it out and record how far they got.

Rows are written only through ``privacy.services``: capability check, one audit event per change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DataRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", "Export of a person's data"
        DELETION = "deletion", "Deletion of a person's data"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"

    # The capability each kind needs on the workspace.
    CAPABILITY = {Kind.EXPORT: "request_data_export", Kind.DELETION: "request_data_deletion"}
    # Staff's last word: a finished request is not reopened (file a new one instead).
    FINAL = frozenset({Status.COMPLETED, Status.REJECTED})

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="data_requests")
    # SET_NULL: deleting a site keeps the record of what was asked; site_name says which it was.
    site = models.ForeignKey(
        "workspaces.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests"
    )
    site_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject = models.CharField(
        "tracked person", max_length=254, help_text="The tracked person's id or e-mail address, as the site knows it."
    )
    note = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.TextField(blank=True, help_text="Shown to the requester.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["workspace", "requested_by"]),
        ]

    def __str__(self):
        return f"Data {self.kind} request {self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL
