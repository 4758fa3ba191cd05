"""Events (the outbox) and the webhook endpoints they are delivered to.

An ``Event`` is written in the transaction of the audited change it reports (``outbox.py``), with a
``Delivery`` for each enabled endpoint of the workspace that wants its type. The worker delivers an
endpoint's pending deliveries one at a time, oldest event first (``delivery.py``), and keeps each
try as an ``Attempt``.
"""

import uuid
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone


class Endpoint(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=100, blank=True)
    # The audit actions this endpoint wants; empty: every action.
    event_types = models.JSONField(default=list, blank=True)
    # Standard Webhooks secret ("whsec_" + base64 of 32 random bytes); kept to sign, shown once.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    # Failed attempts in a row; the endpoint is switched off at WEBHOOKS_DISABLE_AFTER_FAILURES.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_for_failures_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        # Scheme, host and path only: a query string may carry the receiver's own token.
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"[:255]

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Event(models.Model):
    # The webhook-id header: the same on every try of the same event.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uid.hex}"


class Delivery(models.Model):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    STATUSES = [(PENDING, "Pending"), (DELIVERED, "Delivered"), (FAILED, "Given up")]

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-event_id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhooks_delivery_once")]
        # The worker's question: this endpoint's oldest pending delivery.
        indexes = [models.Index(fields=["endpoint", "status", "event"], name="webhooks_delivery_queue")]

    def __str__(self):
        return f"{self.event} to {self.endpoint}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    # The first characters of the answer, printable ASCII only.
    response_excerpt = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"Attempt {self.number} of {self.delivery}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
