"""Mail leaves the request: every message the portal sends goes through ``deliver``.

The code that writes a mail builds it as always (an ``EmailMessage`` or ``EmailMultiAlternatives``
rendered from its templates, in the request, with what the request knows) and hands it to
``deliver``. ``deliver`` turns each message into plain data (subject, bodies, addresses) and, once
the transaction commits (``transaction.on_commit``), queues the ``send_mail`` task with it: a
change that rolls back mails nobody, and the response never waits for the mail server.

The worker rebuilds the messages and sends them over one connection, one at a time. A mail server
that cannot take a message now (a refused connection, a time-out, a 4xx answer) is tried again
later with exponential back-off, for the messages not yet sent only. A recipient refused for good
(5xx) is skipped, and the task ends as failed once the others are sent, so the failure shows in the
admin ("Failed tasks", ``background.FailedTask``, lists every task that gave up).

What a message says may include a link that signs its reader in: the task's arguments are
therefore never written to a log or stored with the result. Celery logs and stores the
``argsrepr``/``kwargsrepr`` given when a task is queued instead of its arguments; ``MailTask``
gives them as a count of messages, for the first try and every retry.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from kombu.exceptions import OperationalError

from background.models import FailedTask

logger = logging.getLogger(__name__)

# Messages per task: a batch of invitations becomes tasks of this many messages, each sent over one
# connection (a broker message stays well under a megabyte).
CHUNK = 100
# Tries after the first, and the back-off between them: 30 s, 1, 2, 4, 8 min, then 10 min at
# most, each drawn at random below that bound (so retries of many tasks do not arrive together).
MAX_RETRIES = 6
BACKOFF_SECONDS = 30
BACKOFF_MAX_SECONDS = 600
# What a mail server that is down or busy raises; SMTPRecipientsRefused is sorted out below.
TRANSIENT = (smtplib.SMTPException, OSError)


class MailNotDelivered(Exception):
    """Some recipients were refused for good; their messages were dropped, the others sent."""


def as_data(message: EmailMessage) -> dict:
    """What a worker needs to send ``message`` again exactly: JSON-friendly, no attachments."""
    if message.attachments:
        raise ValueError("Mail with attachments cannot be queued.")
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }


def from_data(data: dict, connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        data["subject"],
        data["body"],
        data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
        connection=connection,
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def summary(messages: Sequence[dict]) -> str:
    """How a task's arguments appear in logs and task results: a count, nothing the mail says."""
    recipients = sum(len(m["to"]) + len(m["cc"]) + len(m["bcc"]) for m in messages)
    return f"<{len(messages)} message(s) to {recipients} recipient(s)>"


class MailTask(Task):
    """Queues with a harmless ``argsrepr`` and ``kwargsrepr``, retries included."""

    def describe(self, args, kwargs) -> str:
        """What ``background`` keeps of a failed task's arguments."""
        return summary(kwargs.get("messages", ()))

    def apply_async(self, args=None, kwargs=None, **options):
        messages = (kwargs or {}).get("messages", ())
        options["argsrepr"] = "()"  # non-empty: an empty one makes Celery log the arguments instead
        options["kwargsrepr"] = repr({"messages": summary(messages)})
        return super().apply_async(args, kwargs, **options)


def deliver(messages: Iterable[EmailMessage]) -> int:
    """Queue ``messages`` for sending once the current transaction commits (at once outside one).

    Answers how many messages were queued. Nothing is sent when the transaction rolls back.
    """
    payload = [as_data(message) for message in messages]
    for start in range(0, len(payload), CHUNK):
        chunk = payload[start : start + CHUNK]
        transaction.on_commit(lambda chunk=chunk: _queue(chunk))
    return len(payload)


def _queue(chunk: list[dict]) -> None:
    try:
        send_mail.apply_async(kwargs={"messages": chunk})
    except OperationalError as exc:
        # The change is committed: a broker that cannot be reached must not turn it into an error
        # page. Logged and kept without the messages (they may hold sign-in links).
        logger.exception("Could not queue %s", summary(chunk))
        FailedTask.objects.create(
            task_name=send_mail.name,
            exception=type(exc).__name__,
            message=f"Could not be queued: {exc}"[:2000],
            summary=summary(chunk),
        )


def _refused_for_good(exc: Exception) -> bool:
    """A recipient refused with a permanent (5xx) answer: trying again will not help."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(code >= 500 for code, _ in exc.recipients.values())


@shared_task(bind=True, base=MailTask, name="mail.send", max_retries=MAX_RETRIES, acks_late=True)
def send_mail(self, *, messages: list[dict]) -> int:
    """Send ``messages`` over one connection; answers how many were sent (only a count is logged)."""
    sent, index, dropped = 0, 0, []
    connection = get_connection()
    try:
        connection.open()
        while index < len(messages):
            try:
                sent += from_data(messages[index], connection).send() or 0
            except smtplib.SMTPRecipientsRefused as exc:
                if not _refused_for_good(exc):
                    raise
                dropped.append(exc)
            index += 1
    except TRANSIENT as exc:
        remaining = messages[index:]
        countdown = get_exponential_backoff_interval(
            BACKOFF_SECONDS, self.request.retries, BACKOFF_MAX_SECONDS, full_jitter=True
        )
        logger.warning("Mail not sent (%s); %s tried again later", type(exc).__name__, summary(remaining))
        if dropped:  # the retry carries on without them: keep their failure now
            FailedTask.objects.create(
                task_name=self.name,
                task_id=self.request.id or "",
                retries=self.request.retries,
                exception=MailNotDelivered.__name__,
                message=_refusals(dropped)[:2000],
                summary=summary(messages[:index]),
            )
        raise self.retry(exc=exc, kwargs={"messages": remaining}, countdown=countdown) from exc
    finally:
        connection.close()
    if dropped:
        raise MailNotDelivered(_refusals(dropped))
    return sent


def _refusals(dropped: list[smtplib.SMTPRecipientsRefused]) -> str:
    return f"{len(dropped)} message(s) refused by the mail server: {dropped[0]}"
