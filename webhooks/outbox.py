"""The outbox: each audited change of a workspace becomes an ``Event`` in the same transaction.

``audit.services`` calls ``write_events`` (registered in ``WebhooksConfig.ready``) with the events
it just wrote. Events without a workspace (an account's own changes) are not delivered anywhere and
are not written. For each enabled endpoint that wants the event's type, a pending ``Delivery`` is
written too, and the endpoint's delivery task is queued once the transaction commits: a change
that rolls back sends nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from audit.wording import target_label, target_type_label

from .models import Delivery, Endpoint, Event
from .tasks import queue_delivery


def payload_of(audit_event) -> dict:
    """The event's public data: what the activity page shows, never more (the log holds no secrets)."""
    data = {
        "id": audit_event.pk,
        "action": audit_event.action,
        "actor": audit_event.actor_email,
        "target": {
            "type": audit_event.target_type,
            "id": audit_event.target_id,
            "words": " ".join(
                part
                for part in (
                    target_type_label(audit_event.target_type),
                    target_label(
                        audit_event.target_type, audit_event.target_repr, audit_event.before, audit_event.after
                    ),
                )
                if part
            ),
        },
        "before": audit_event.before,
        "after": audit_event.after,
        "created_at": audit_event.created_at,
    }
    # Stored as JSON: dates and decimals of before/after become text as the audit log writes them.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def write_events(audit_events) -> None:
    kept = [e for e in audit_events if e.workspace_id is not None]
    if not kept:
        return
    events = Event.objects.bulk_create(
        [
            Event(workspace_id=e.workspace_id, type=e.action, payload=payload_of(e), created_at=e.created_at)
            for e in kept
        ]
    )
    by_workspace = defaultdict(list)
    for event in events:
        by_workspace[event.workspace_id].append(event)
    endpoints = Endpoint.objects.filter(workspace_id__in=list(by_workspace), enabled=True).only(
        "id", "workspace_id", "event_types"
    )
    deliveries = [
        Delivery(endpoint_id=endpoint.pk, event=event)
        for endpoint in endpoints
        for event in by_workspace[endpoint.workspace_id]
        if endpoint.wants(event.type)
    ]
    if not deliveries:
        return
    Delivery.objects.bulk_create(deliveries)
    for endpoint_id in sorted({d.endpoint_id for d in deliveries}):
        transaction.on_commit(lambda endpoint_id=endpoint_id: queue_delivery(endpoint_id))
