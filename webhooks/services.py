"""Writing webhook endpoints: add, change, remove, rotate the secret, redeliver an event.

Every write needs ``manage_webhooks`` in the endpoint's workspace and is audited. The secret is
made here (Standard Webhooks: ``whsec_`` and the base64 of 32 random bytes), answered once to be
shown, and never written to the audit log: the log says only that it changed.
"""

from __future__ import annotations

import base64
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import record
from audit.wording import ACTION_WORDS
from kernel.locks import lock_workspace
from permissions.policy import require
from workspaces.models import Workspace

from . import network
from .models import Delivery, Endpoint
from .tasks import queue_delivery

MAX_ENDPOINTS = 20


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def event_type_choices() -> list[tuple[str, str]]:
    """The actions an endpoint may choose among, in the activity page's words."""
    return sorted(ACTION_WORDS.items(), key=lambda item: item[0])


def _check(url: str, event_types) -> tuple[str, list[str]]:
    url = (url or "").strip()
    if len(url) > 2000:
        raise ValidationError("The address is too long.")
    try:
        network.check_url(url)
    except network.AddressRefused as exc:
        raise ValidationError(str(exc)) from exc
    chosen = sorted(set(event_types or []))
    unknown = set(chosen) - set(ACTION_WORDS)
    if unknown:
        raise ValidationError("Choose event types from the list.")
    return url, chosen


def _state(endpoint: Endpoint) -> dict:
    return {
        "url": str(endpoint),
        "description": endpoint.description,
        "event_types": endpoint.event_types or "all",
        "enabled": endpoint.enabled,
    }


@transaction.atomic
def endpoint_add(
    *, actor, workspace: Workspace, url: str, event_types=(), description: str = "", enabled: bool = True
) -> tuple[Endpoint, str]:
    """Answers the endpoint and its secret (to be shown once)."""
    require(actor, "manage_webhooks", workspace)
    url, chosen = _check(url, event_types)
    lock_workspace(workspace)
    if Endpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS:
        raise ValidationError(f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    endpoint = Endpoint.objects.create(
        workspace=workspace,
        url=url,
        description=(description or "").strip()[:100],
        event_types=chosen,
        secret=secret,
        enabled=enabled,
    )
    record(action="webhook.add", actor=actor, workspace=workspace, target=endpoint, after=_state(endpoint))
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, actor, endpoint: Endpoint, url: str, event_types=(), description: str = "", enabled: bool = True
) -> Endpoint:
    workspace = endpoint.workspace
    require(actor, "manage_webhooks", workspace)
    url, chosen = _check(url, event_types)
    lock_workspace(workspace)
    before = _state(endpoint)
    switched_on = enabled and not endpoint.enabled
    endpoint.url, endpoint.event_types = url, chosen
    endpoint.description, endpoint.enabled = (description or "").strip()[:100], enabled
    if switched_on:
        endpoint.consecutive_failures, endpoint.disabled_for_failures_at = 0, None
    after = _state(endpoint)
    if after == before:
        return endpoint
    endpoint.save()
    record(action="webhook.update", actor=actor, workspace=workspace, target=endpoint, before=before, after=after)
    if switched_on:  # what waited while it was off goes now, in order
        transaction.on_commit(lambda: queue_delivery(endpoint.pk))
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint: Endpoint) -> str:
    """A new secret, answered to be shown once; the old one stops signing at once."""
    workspace = endpoint.workspace
    require(actor, "manage_webhooks", workspace)
    lock_workspace(workspace)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    record(
        action="webhook.rotate_secret",
        actor=actor,
        workspace=workspace,
        target=endpoint,
        after={"secret": "changed"},  # that it changed, never what it is
    )
    return endpoint.secret


@transaction.atomic
def endpoint_remove(*, actor, endpoint: Endpoint) -> None:
    workspace = endpoint.workspace
    require(actor, "manage_webhooks", workspace)
    lock_workspace(workspace)
    record(action="webhook.remove", actor=actor, workspace=workspace, target=endpoint, before=_state(endpoint))
    endpoint.delete()


@transaction.atomic
def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """Send an event to its endpoint again (pending at once, before the endpoint's later events)."""
    endpoint = delivery.endpoint
    workspace = endpoint.workspace
    require(actor, "manage_webhooks", workspace)
    delivery.status, delivery.attempts, delivery.next_attempt_at = Delivery.PENDING, 0, timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    record(
        action="webhook.redeliver",
        actor=actor,
        workspace=workspace,
        target=endpoint,
        after={"event": delivery.event.webhook_id, "type": delivery.event.type},
    )
    if endpoint.enabled:
        transaction.on_commit(lambda: queue_delivery(endpoint.pk))
    return delivery
