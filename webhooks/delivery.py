"""Delivering an endpoint's events: one at a time, oldest first, signed per Standard Webhooks.

``deliver_next(endpoint_id)`` locks the endpoint's row (``SELECT … FOR UPDATE SKIP LOCKED``: one
worker per endpoint at a time; another finds it taken and leaves it), takes its oldest pending
delivery, and, when that delivery is due, POSTs it. A 2xx answer delivers it and the next one
follows; anything else (another status, a time-out, a refused address) is a failed attempt: the
delivery waits ``backoff(attempts)`` and blocks the endpoint's later events until it succeeds or
is given up after ``WEBHOOKS_MAX_ATTEMPTS``. ``WEBHOOKS_DISABLE_AFTER_FAILURES`` failed attempts in a
row switch the endpoint off, audited, and its workspace's owners are mailed.
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from audit.services import record
from kernel.mail import deliver
from permissions import catalog
from workspaces.models import Membership

from . import network
from .models import Attempt, Delivery, Endpoint, Event

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> datetime.timedelta:
    """Wait after the ``attempts``-th failed try: the base doubling each time, at most the cap."""
    seconds = settings.WEBHOOKS_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOKS_RETRY_MAX_SECONDS))


def body_of(event: Event) -> str:
    """The JSON body: the Standard Webhooks envelope (type, timestamp, data)."""
    return json.dumps(
        {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.payload},
        separators=(",", ":"),
        sort_keys=True,
    )


def signed_headers(endpoint: Endpoint, event: Event, body: str, now: datetime.datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Portal-Webhooks/1",
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(event.webhook_id, now, body),
    }


@dataclass(frozen=True)
class Outcome:
    """What one call of ``deliver_next`` did: ``retry_in`` seconds when the endpoint must wait;
    ``idle`` when it held the endpoint and found nothing pending."""

    sent: bool
    more: bool = False
    retry_in: float | None = None
    idle: bool = False


def _attempt(endpoint: Endpoint, delivery: Delivery) -> Attempt:
    now = timezone.now()
    body = body_of(delivery.event)
    started = time.monotonic()
    status, excerpt, error = None, "", ""
    try:
        status, excerpt = network.post(endpoint.url, body.encode(), signed_headers(endpoint, delivery.event, body, now))
        if not 200 <= status < 300:
            error = f"Answered {status}."
    except network.AddressRefused as exc:
        error = str(exc)
    except TimeoutError:
        error = "Timed out."
    except (OSError, http.client.HTTPException) as exc:
        error = f"Could not connect ({type(exc).__name__})."
    return Attempt(
        delivery=delivery,
        number=delivery.attempts + 1,
        at=now,
        status_code=status,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error[:255],
        response_excerpt=excerpt,
    )


def deliver_next(endpoint_id: int) -> Outcome:
    """Try the endpoint's oldest pending delivery, if it is due."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update(skip_locked=True).filter(pk=endpoint_id, enabled=True).first()
        if endpoint is None:  # gone, switched off, or another worker is on it
            return Outcome(sent=False)
        delivery = (
            Delivery.objects.select_related("event")
            .filter(endpoint=endpoint, status=Delivery.PENDING)
            .order_by("event_id")
            .first()
        )
        if delivery is None:
            return Outcome(sent=False, idle=True)
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if wait > 0:
            return Outcome(sent=False, retry_in=wait)
        attempt = _attempt(endpoint, delivery)
        attempt.save()
        delivery.attempts = attempt.number
        if attempt.succeeded:
            delivery.status = Delivery.DELIVERED
            delivery.save(update_fields=["status", "attempts"])
            if endpoint.consecutive_failures:
                endpoint.consecutive_failures = 0
                endpoint.save(update_fields=["consecutive_failures"])
            return Outcome(sent=True, more=True)
        logger.info("Webhook %s to endpoint %s failed: %s", delivery.event.webhook_id, endpoint.pk, attempt.error)
        if attempt.number >= settings.WEBHOOKS_MAX_ATTEMPTS:
            delivery.status = Delivery.FAILED  # given up: the endpoint's next event may go
        else:
            delivery.next_attempt_at = attempt.at + backoff(attempt.number)
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        endpoint.consecutive_failures += 1
        endpoint.save(update_fields=["consecutive_failures"])
        if endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
            _switch_off(endpoint)
            return Outcome(sent=False)
        if delivery.status == Delivery.FAILED:
            return Outcome(sent=False, more=True)
        return Outcome(sent=False, retry_in=backoff(attempt.number).total_seconds())


def _switch_off(endpoint: Endpoint) -> None:
    endpoint.enabled = False
    endpoint.disabled_for_failures_at = timezone.now()
    endpoint.save(update_fields=["enabled", "disabled_for_failures_at"])
    record(
        action="webhook.switched_off",
        workspace=endpoint.workspace,
        target=endpoint,
        before={"enabled": True},
        after={"enabled": False, "consecutive_failures": endpoint.consecutive_failures},
    )
    owners = list(
        Membership.objects.filter(
            workspace=endpoint.workspace, role__builtin=True, role__key=catalog.OWNER, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not owners:
        return
    link = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "webhooks:detail", args=[endpoint.workspace.slug, endpoint.pk]
    )
    body = (
        f"The webhook endpoint {endpoint} of {endpoint.workspace.name} failed "
        f"{endpoint.consecutive_failures} times in a row and was switched off. Nothing is sent to it "
        f"until it is switched on again:\n\n{link}\n"
    )
    deliver(
        [
            EmailMessage(
                f"Webhook endpoint switched off in {endpoint.workspace.name}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [address],
            )
            for address in owners
        ]
    )
