"""The audit log: one row per change, written in the same transaction as the change."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    # update() stays: Django's SET_NULL uses it when an actor's account is deleted.
    def delete(self):
        raise PermissionError("Audit events are never deleted.")


class AuditEvent(models.Model):
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Kept as text too, so the record survives the workspace and the actor.
    workspace_name = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The activity page's keyset: a workspace's events by (time, id), newest first.
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="audit_event_workspace_keyset")]

    def __str__(self):
        return f"{self.action} by {self.actor_email or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are never deleted.")
