"""Keeping failed background tasks: what the admin's "Failed tasks" list shows."""

from __future__ import annotations

from .models import FailedTask

MESSAGE_MAX = 2000


def task_failed(
    *, task_name: str, task_id: str, exception: BaseException, retries: int = 0, summary: str = ""
) -> FailedTask:
    return FailedTask.objects.create(
        task_name=task_name[:200],
        task_id=(task_id or "")[:255],
        retries=retries,
        exception=type(exception).__name__[:200],
        message=str(exception)[:MESSAGE_MAX],
        summary=summary[:200],
    )


def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra) -> None:
    """Celery's task_failure signal: the task's arguments are not kept, only what the task's own
    ``describe`` (if it has one) says of them."""
    describe = getattr(sender, "describe", None)
    summary = describe(args or (), kwargs or {}) if describe is not None else ""
    retries = getattr(getattr(sender, "request", None), "retries", 0) or 0
    task_failed(
        task_name=getattr(sender, "name", "") or "",
        task_id=task_id or "",
        exception=exception,
        retries=retries,
        summary=summary,
    )
