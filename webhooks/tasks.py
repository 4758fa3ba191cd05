"""The delivery tasks: ``webhooks.deliver`` per endpoint, and ``webhooks.deliver_due`` on beat.

``deliver`` sends an endpoint's due deliveries in order, at most ``BATCH`` per run, and queues
itself again for the rest or, after a failure, for when the failed delivery is due. Without a
broker (eager mode) it does not queue itself for later: a request must not sleep through the
back-off; ``deliver_due``, every minute on beat, picks up every endpoint with a due delivery, so a
task lost with a broker restart costs a minute, not an event.

A task that finds the endpoint held by another worker leaves it to that one, so the holder looks
again after it lets go: an event that committed while the holder was finding nothing pending had
its own task turned away by the holder's lock, and would otherwise wait for the sweep.
"""

from __future__ import annotations

from celery import shared_task
from django.db.models import Min
from django.utils import timezone

from portal.celery import app

from .delivery import deliver_next
from .models import Delivery

BATCH = 50


def queue_delivery(endpoint_id: int, countdown: float | None = None, queue: str | None = None) -> None:
    options = {"queue": queue} if queue else {}
    deliver.apply_async(args=[endpoint_id], countdown=countdown, **options)


@shared_task(bind=True, name="webhooks.deliver", ignore_result=True)
def deliver(self, endpoint_id: int, follow_up: bool = True) -> int:
    """Send the endpoint's due deliveries; ``follow_up=False`` (the sweep) queues no later try.

    A follow-up goes to the queue this task came from.
    """
    queue = (self.request.delivery_info or {}).get("routing_key")
    sent = 0
    for _ in range(BATCH):
        outcome = deliver_next(endpoint_id)
        sent += outcome.sent
        if outcome.retry_in is not None:
            if follow_up and not app.conf.task_always_eager:
                queue_delivery(endpoint_id, countdown=outcome.retry_in, queue=queue)
            return sent
        if not outcome.more:
            if outcome.idle and due_now(endpoint_id):
                continue
            return sent
    queue_delivery(endpoint_id, queue=queue)
    return sent


def due_now(endpoint_id: int) -> bool:
    return Delivery.objects.filter(
        endpoint_id=endpoint_id, endpoint__enabled=True, status=Delivery.PENDING, next_attempt_at__lte=timezone.now()
    ).exists()


def due_endpoints() -> list[int]:
    return list(
        Delivery.objects.filter(status=Delivery.PENDING, endpoint__enabled=True)
        .values("endpoint_id")
        .annotate(due=Min("next_attempt_at"))
        .filter(due__lte=timezone.now())
        .values_list("endpoint_id", flat=True)
    )


@shared_task(name="webhooks.deliver_due", ignore_result=True)
def deliver_due() -> int:
    endpoints = due_endpoints()
    for endpoint_id in endpoints:
        deliver.apply_async(args=[endpoint_id, False])
    return len(endpoints)
