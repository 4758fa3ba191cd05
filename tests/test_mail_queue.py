"""Every mail the portal sends is queued when the transaction commits, and sent by the mail task.

Tasks run at once in the test settings (CELERY_TASK_ALWAYS_EAGER, as with `make run`); the test
with a real broker and worker is tests/test_celery_worker.py. The retry tests send through a real
SMTP server on 127.0.0.1 (tests/mail_receiver.py) that refuses on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from kombu import pools

from accounts import emails
from accounts.services import (
    account_create,
    account_signup,
    email_change_request,
    password_reset_request,
    signup_request,
)
from background.models import FailedTask
from billing.services import billing_contact_add, plan_change
from billing.staff import plan_set
from kernel import mail as mail_queue
from permissions import catalog
from permissions.roles import builtin_role
from portal.celery import app
from tests.factories import PASSWORD, UserFactory, add_member, make_experience, viewer_group_member_add
from tests.mail_receiver import Receiver, Running, free_port, smtp_settings
from workspaces.experiences.services import experience_publish
from workspaces.invites.services import invite_create
from workspaces.management.commands.create_workspace import send_set_password_email
from workspaces.people.services import member_change_role
from workspaces.viewer_groups.link_services import LinkRequest, viewer_link_request
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = pytest.mark.django_db


# --- every mail: queued on commit, nothing on rollback ----------------------------------------------


@dataclass
class Case:
    """``prepare(owner, workspace)`` makes what the mail needs and answers the action that sends it."""

    name: str
    prepare: Callable
    recipients: list[str]


def _verification(owner, workspace):
    return lambda: account_signup(email="new@example.com", full_name="New", password="a long passphrase 42")


def _signup_attempt(owner, workspace):
    return lambda: signup_request(email=owner.email, full_name="Again", password="a long passphrase 42")


def _password_reset(owner, workspace):
    return lambda: password_reset_request(email=owner.email)


def _address_change_link(owner, workspace):
    return lambda: email_change_request(user=owner, new_email="olivia@new.test", password=PASSWORD)


def _address_changed_notice(owner, workspace):
    return lambda: emails.send_email_changed_notice(user=owner, old_email="old@acme.test")


def _invitation(owner, workspace):
    role = builtin_role(catalog.MEMBER, catalog.WORKSPACE)
    return lambda: invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role)


def _viewer_link(owner, workspace):
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_member_add(actor=owner, group=group, email="ada@example.com")
    experience = make_experience(workspace, creator=owner)
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])

    def send():
        assert viewer_link_request(experience=experience, email="ada@example.com") == LinkRequest.SENT

    return send


def _role_changed(owner, workspace):
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mia@acme.test"))
    viewer = builtin_role(catalog.VIEWER, catalog.WORKSPACE)
    return lambda: member_change_role(actor=owner, membership=member, role=viewer)


def _plan_request(owner, workspace):
    plan_set(workspace=workspace, plan_key="business")
    billing_contact_add(actor=None, workspace=workspace, email="ap@acme.test")
    return lambda: plan_change(actor=owner, workspace=workspace, plan_key="growth", reason="Fewer sites")


def _first_password(owner, workspace):
    user = account_create(actor=None, email="first@example.com")
    return lambda: send_set_password_email(user)


CASES = [
    Case("verification", _verification, ["new@example.com"]),
    Case("signup attempt", _signup_attempt, ["owner@acme.test"]),
    Case("password reset", _password_reset, ["owner@acme.test"]),
    Case("address change link", _address_change_link, ["olivia@new.test"]),
    Case("address changed notice", _address_changed_notice, ["old@acme.test"]),
    Case("invitation", _invitation, ["ann@example.com"]),
    Case("viewer link", _viewer_link, ["ada@example.com"]),
    Case("role changed", _role_changed, ["mia@acme.test"]),
    Case("plan request", _plan_request, ["ap@acme.test", settings.DEFAULT_FROM_EMAIL]),
    Case("first password", _first_password, ["first@example.com"]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_mail_is_queued_when_the_transaction_commits(case, owner, workspace, django_capture_on_commit_callbacks):
    send = case.prepare(owner, workspace)
    mail.outbox.clear()
    queued = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        send()
    assert mail.outbox == []  # nothing leaves before the commit
    real_queue = mail_queue._queue
    mail_queue._queue = lambda chunk: (queued.append(chunk), real_queue(chunk))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()
    finally:
        mail_queue._queue = real_queue
    assert len(queued) == 1  # one mail task
    [message] = mail.outbox
    assert sorted(message.to + message.cc) == sorted(case.recipients)
    # The task carries the message as the code built it, as plain data.
    [data] = queued[0]
    assert (data["subject"], data["body"], data["to"]) == (message.subject, message.body, message.to)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_rolled_back_change_mails_nobody(case, owner, workspace, django_capture_on_commit_callbacks):
    send = case.prepare(owner, workspace)
    mail.outbox.clear()

    class Abandoned(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abandoned),
        transaction.atomic(),
    ):
        send()
        raise Abandoned
    assert callbacks == []
    assert mail.outbox == []


# --- what the task logs and keeps ------------------------------------------------------------------


def link_message(to="ann@example.com") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives("Your link", "Open https://portal.test/secret-token-123/", to=[to])
    message.attach_alternative('<a href="https://portal.test/secret-token-123/">Open</a>', "text/html")
    return message


def test_the_task_is_queued_with_a_summary_in_place_of_its_arguments(monkeypatch):
    seen = {}
    monkeypatch.setattr("celery.app.task.Task.apply_async", lambda self, args=None, kwargs=None, **o: seen.update(o))
    mail_queue.send_mail.apply_async(kwargs={"messages": [mail_queue.as_data(link_message())]})
    assert seen["argsrepr"] == "()"
    assert seen["kwargsrepr"] == "{'messages': '<1 message(s) to 1 recipient(s)>'}"


def test_a_message_is_rebuilt_exactly():
    message = link_message()
    message.cc, message.reply_to, message.extra_headers = ["cc@x.test"], ["reply@x.test"], {"X-Tag": "a"}
    again = mail_queue.from_data(mail_queue.as_data(message))
    for name in ("subject", "body", "from_email", "to", "cc", "reply_to", "extra_headers", "alternatives"):
        assert getattr(again, name) == getattr(message, name)


def test_attachments_are_refused():
    message = link_message()
    message.attach("a.txt", "hello", "text/plain")
    with pytest.raises(ValueError):
        mail_queue.as_data(message)


# --- retries through a real SMTP server -----------------------------------------------------------------


@pytest.fixture
def smtp(settings):
    running = Running(Receiver())
    smtp_settings(settings, running.port)
    yield running.receiver
    running.stop()


def deliver_now(*messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail_queue.deliver(list(messages))


def test_the_mail_reaches_the_smtp_server(smtp, django_capture_on_commit_callbacks):
    deliver_now(link_message(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    [(recipients, message)] = smtp.messages
    assert recipients == ["ann@example.com"]
    assert message["Subject"] == "Your link"
    assert "secret-token-123" in smtp.text_of()
    assert not FailedTask.objects.exists()


def test_a_server_that_says_try_later_gets_the_mail_on_a_later_try(smtp, django_capture_on_commit_callbacks):
    smtp.refuse = 2  # "451 try again later", twice
    deliver_now(link_message(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert smtp.attempts == 3
    assert len(smtp.messages) == 1
    assert not FailedTask.objects.exists()


def test_only_the_messages_not_yet_sent_are_tried_again(smtp, django_capture_on_commit_callbacks):
    smtp.refused_once = {"p1@example.com"}
    messages = [link_message(f"p{i}@example.com") for i in range(3)]
    deliver_now(*messages, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    # p0 went, p1 was refused once; the retry sent p1 and p2: each arrived exactly once.
    assert [r for r, _ in smtp.messages] == [["p0@example.com"], ["p1@example.com"], ["p2@example.com"]]
    assert smtp.attempts == 4


def test_a_server_that_keeps_refusing_is_given_up_and_the_failure_kept(
    smtp, django_capture_on_commit_callbacks, caplog
):
    smtp.refuse = 100
    with caplog.at_level(logging.DEBUG):
        deliver_now(link_message(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert smtp.attempts == mail_queue.MAX_RETRIES + 1
    assert smtp.messages == []
    [failed] = FailedTask.objects.all()
    assert (failed.task_name, failed.exception, failed.retries) == ("mail.send", "SMTPRecipientsRefused", 6)
    assert "451" in failed.message
    assert failed.summary == "<1 message(s) to 1 recipient(s)>"
    # Neither the log nor the kept failure holds the mail's text or link.
    for text in (caplog.text, failed.message, failed.summary):
        assert "secret-token-123" not in text and "Open" not in text


def test_a_mail_server_that_is_not_there_is_tried_again_then_given_up(settings, django_capture_on_commit_callbacks):
    smtp_settings(settings, free_port())  # nothing listens there
    deliver_now(link_message(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    [failed] = FailedTask.objects.all()
    assert failed.exception == "ConnectionRefusedError"
    assert failed.retries == mail_queue.MAX_RETRIES


def test_a_recipient_refused_for_good_does_not_hold_up_the_others(smtp, django_capture_on_commit_callbacks):
    smtp.refused_for_good = {"gone@example.com"}
    deliver_now(
        link_message("gone@example.com"),
        link_message("ann@example.com"),
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    assert [r for r, _ in smtp.messages] == [["ann@example.com"]]
    assert smtp.attempts == 2  # no retry for a permanent refusal
    [failed] = FailedTask.objects.all()
    assert failed.exception == "MailNotDelivered"
    assert "gone@example.com" in failed.message and "550" in failed.message


def test_the_backoff_grows_and_is_capped():
    bounds = [
        get_exponential_backoff_interval(mail_queue.BACKOFF_SECONDS, n, mail_queue.BACKOFF_MAX_SECONDS, False)
        for n in range(mail_queue.MAX_RETRIES)
    ]
    assert bounds == [30, 60, 120, 240, 480, 600]


# --- a broker that cannot be reached ---------------------------------------------------------------------


@pytest.fixture
def unreachable_broker():
    """This process publishes to a broker that is not there, failing at once (no publish retries)."""
    keys = ("task_always_eager", "broker_url", "task_publish_retry")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_always_eager=False, broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}//", task_publish_retry=False
    )
    pools.reset()  # producers made for the in-process broker by earlier tests
    app._pool = app.amqp._producer_pool = None
    yield
    app.conf.update(saved)
    pools.reset()
    app._pool = app.amqp._producer_pool = None


def test_a_broker_that_cannot_be_reached_keeps_the_change_and_records_the_mail(
    unreachable_broker, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        assert mail_queue.deliver([link_message()]) == 1  # no exception reaches the request
    [failed] = FailedTask.objects.all()
    assert failed.task_name == "mail.send"
    assert failed.message.startswith("Could not be queued")
    assert failed.summary == "<1 message(s) to 1 recipient(s)>"
    assert "secret-token-123" not in caplog.text


def test_a_refusal_for_good_before_a_retry_is_kept(smtp, django_capture_on_commit_callbacks):
    smtp.refused_for_good = {"gone@example.com"}
    smtp.refused_once = {"later@example.com"}
    deliver_now(
        link_message("gone@example.com"),
        link_message("later@example.com"),
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    assert [r for r, _ in smtp.messages] == [["later@example.com"]]
    [failed] = FailedTask.objects.all()
    assert failed.exception == "MailNotDelivered" and "gone@example.com" in failed.message
