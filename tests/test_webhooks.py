"""Webhooks end to end: the outbox written with each audited change, delivered by the (eager) Celery
task to a real HTTP receiver on 127.0.0.1 that verifies the Standard Webhooks signature; order,
retries, giving up, switching off; the pages; and the attacker's side (tampering, other workspaces,
private addresses, the secret kept out of pages, logs and the audit log)."""

from __future__ import annotations

import datetime
import json
import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from audit.models import AuditEvent
from audit.services import record
from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace
from tests.webhook_receiver import WebhookReceiver
from webhooks import network
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.services import delivery_redeliver, endpoint_add, endpoint_remove, endpoint_rotate_secret, endpoint_update
from webhooks.tasks import deliver_due
from workspaces.teams.services import team_create


@pytest.fixture
def receiver():
    running = WebhookReceiver()
    yield running
    running.stop()


@pytest.fixture
def hooked(receiver, owner, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # its own "webhook.add" is its first event
        endpoint, secret = endpoint_add(actor=owner, workspace=workspace, url=receiver.url)
    receiver.secret = secret
    receiver.received.clear()
    return endpoint


def change(owner, workspace, capture, name="Growth"):
    with capture(execute=True):
        return team_create(actor=owner, workspace=workspace, name=name)


def make_due(endpoint):
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.PENDING).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def run_due(capture):
    with capture(execute=True):
        deliver_due()


# --- the outbox -----------------------------------------------------------------------------------


def test_every_audited_change_of_a_workspace_writes_an_event_in_its_transaction(owner, workspace):
    before = Event.objects.count()
    team = team_create(actor=owner, workspace=workspace, name="Growth")
    audit = AuditEvent.objects.filter(action="team.create").get()
    event = Event.objects.exclude(pk__lte=before).get(type="team.create")
    assert event.workspace == workspace
    assert event.payload["id"] == audit.pk
    assert event.payload["actor"] == owner.email
    assert event.payload["target"] == {"type": "team", "id": str(team.pk), "words": "team Growth"}
    assert event.payload["after"] == audit.after


def test_events_without_a_workspace_are_not_written(owner):
    before = Event.objects.count()
    record(action="account.update", actor=owner, target=owner, after={"full_name": "x"})
    assert Event.objects.count() == before


def test_a_change_that_rolls_back_leaves_no_event(owner, workspace):
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        team_create(actor=owner, workspace=workspace, name="Growth")
        raise RuntimeError("the change fails after the audit event was written")
    assert Event.objects.count() == before


# --- delivery --------------------------------------------------------------------------------------


def test_a_change_is_posted_signed_and_the_receiver_verifies_it(
    hooked, receiver, owner, workspace, django_capture_on_commit_callbacks
):
    team = change(owner, workspace, django_capture_on_commit_callbacks)
    [got] = receiver.received
    assert got.verified
    event = Event.objects.get(type="team.create")
    assert got.headers["webhook-id"] == event.webhook_id
    assert got.headers["content-type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert got.json["type"] == "team.create"
    assert got.json["data"]["target"]["id"] == str(team.pk)
    assert got.json["data"]["actor"] == owner.email
    delivery = Delivery.objects.get(endpoint=hooked, event=event)
    assert delivery.status == Delivery.DELIVERED
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.error == ""
    # The answer is kept as a short excerpt of printable characters only.
    assert "\x00" not in attempt.response_excerpt and "\x1b" not in attempt.response_excerpt
    assert attempt.response_excerpt.startswith("answer 200")


def test_a_tampered_body_or_a_wrong_secret_does_not_verify(
    hooked, receiver, owner, workspace, django_capture_on_commit_callbacks
):
    change(owner, workspace, django_capture_on_commit_callbacks)
    [got] = receiver.received
    Webhook(receiver.secret).verify(got.body, got.headers)
    tampered = got.body.replace(b"team.create", b"team.delete")
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(tampered, got.headers)
    other = Endpoint(secret=Webhook.__init__ and "whsec_" + "QUJD" * 8)
    with pytest.raises(WebhookVerificationError):
        Webhook(other.secret).verify(got.body, got.headers)


def test_only_the_chosen_event_types_are_sent(receiver, owner, workspace, django_capture_on_commit_callbacks):
    endpoint, secret = endpoint_add(actor=owner, workspace=workspace, url=receiver.url, event_types=["team.delete"])
    change(owner, workspace, django_capture_on_commit_callbacks)
    assert receiver.received == []
    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_a_failed_event_blocks_the_next_until_it_succeeds_with_the_same_id(
    hooked, receiver, owner, workspace, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    change(owner, workspace, django_capture_on_commit_callbacks, "One")
    change(owner, workspace, django_capture_on_commit_callbacks, "Two")
    # The first failed; the second waits behind it (not sent out of order).
    assert [r.json["data"]["target"]["words"] for r in receiver.received] == ["team One"]
    first = Delivery.objects.get(endpoint=hooked, event__payload__target__words="team One")
    assert first.status == Delivery.PENDING and first.attempts == 1
    assert first.next_attempt_at > timezone.now()
    [failed] = first.attempt_log.all()
    assert failed.status_code == 500 and failed.error == "Answered 500."

    make_due(hooked)
    run_due(django_capture_on_commit_callbacks)
    words = [r.json["data"]["target"]["words"] for r in receiver.received]
    assert words == ["team One", "team One", "team Two"]
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert all(r.verified for r in receiver.received)
    assert set(Delivery.objects.filter(endpoint=hooked).values_list("status", flat=True)) == {Delivery.DELIVERED}
    hooked.refresh_from_db()
    assert hooked.consecutive_failures == 0


def test_an_event_committed_while_the_task_found_nothing_is_sent_by_that_task(
    hooked, receiver, owner, workspace, django_capture_on_commit_callbacks, monkeypatch
):
    """The race: the running task holds the endpoint and finds nothing pending; meanwhile a change
    commits and its own task is turned away by that lock (SKIP LOCKED). The running task must look
    again once it lets go, or the event waits for the minute's sweep. Here the change commits right
    after the real ``deliver_next`` found nothing, and its own task never runs."""
    from webhooks import tasks

    real, calls = tasks.deliver_next, []

    def then_a_change_commits(endpoint_id):
        outcome = real(endpoint_id)
        calls.append(outcome)
        if len(calls) == 1:
            with django_capture_on_commit_callbacks(execute=False):  # its task was turned away
                team_create(actor=owner, workspace=workspace, name="Late")
        return outcome

    monkeypatch.setattr(tasks, "deliver_next", then_a_change_commits)
    assert tasks.deliver(hooked.pk) == 1
    assert calls[0].idle
    assert [r.json["data"]["target"]["words"] for r in receiver.received] == ["team Late"]
    assert not Delivery.objects.filter(endpoint=hooked, status=Delivery.PENDING).exists()


def test_a_task_that_cannot_take_the_endpoint_is_not_idle(hooked, owner, workspace):
    """Switched off, or held by another worker (one branch: the locking query finds no row): not
    idle, so the task ends at once; the holder looks again, the turned-away task never spins."""
    from webhooks.delivery import deliver_next

    team_create(actor=owner, workspace=workspace, name="Waiting")  # something pending
    Endpoint.objects.filter(pk=hooked.pk).update(enabled=False)
    outcome = deliver_next(hooked.pk)
    assert not outcome.idle and not outcome.sent and outcome.retry_in is None


def test_backoff_doubles_up_to_the_cap(settings):
    from webhooks.delivery import backoff

    settings.WEBHOOKS_RETRY_BASE_SECONDS, settings.WEBHOOKS_RETRY_MAX_SECONDS = 30, 300
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 300, 300]


def test_an_event_is_given_up_after_the_last_attempt_and_the_next_one_goes(
    settings, hooked, receiver, owner, workspace, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.answers = [503, 503]
    change(owner, workspace, django_capture_on_commit_callbacks, "One")
    change(owner, workspace, django_capture_on_commit_callbacks, "Two")
    make_due(hooked)
    run_due(django_capture_on_commit_callbacks)
    first = Delivery.objects.get(endpoint=hooked, event__payload__target__words="team One")
    second = Delivery.objects.get(endpoint=hooked, event__payload__target__words="team Two")
    assert first.status == Delivery.FAILED and first.attempts == 2
    assert second.status == Delivery.DELIVERED


def test_an_endpoint_failing_too_often_is_switched_off_audited_and_the_owners_mailed(
    settings, hooked, receiver, owner, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.answers = [500, 500, 500]
    change(owner, workspace, django_capture_on_commit_callbacks, "One")
    make_due(hooked)
    run_due(django_capture_on_commit_callbacks)
    hooked.refresh_from_db()
    assert not hooked.enabled and hooked.disabled_for_failures_at is not None
    assert len(receiver.received) == 2
    assert AuditEvent.objects.filter(action="webhook.switched_off", target_id=str(hooked.pk)).exists()
    [mail] = mailoutbox
    assert mail.to == [owner.email] and "switched off" in mail.subject
    assert reverse("webhooks:detail", args=[workspace.slug, hooked.pk]) in mail.body
    # Off: nothing more is tried, even when due.
    make_due(hooked)
    run_due(django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2
    # Switched on again, what waited goes, in order.
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_update(actor=owner, endpoint=hooked, url=hooked.url, enabled=True)
    assert [r.json["type"] for r in receiver.received][2] == "team.create"


def test_redeliver_sends_the_same_event_again(hooked, receiver, owner, workspace, django_capture_on_commit_callbacks):
    change(owner, workspace, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=hooked, event__type="team.create")
    with django_capture_on_commit_callbacks(execute=True):
        delivery_redeliver(actor=owner, delivery=delivery)
    sent = [r for r in receiver.received if r.json["type"] == "team.create"]
    assert len(sent) == 2 and sent[0].headers["webhook-id"] == sent[1].headers["webhook-id"]
    assert delivery.attempt_log.count() == 2


def test_a_rotated_secret_signs_from_then_on(hooked, receiver, owner, workspace, django_capture_on_commit_callbacks):
    old = receiver.secret
    receiver.secret = endpoint_rotate_secret(actor=owner, endpoint=hooked)
    assert receiver.secret != old and receiver.secret.startswith("whsec_")
    change(owner, workspace, django_capture_on_commit_callbacks)
    got = [r for r in receiver.received if r.json["type"] == "team.create"][0]
    assert got.verified
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


# --- the attacker's side ---------------------------------------------------------------------------


def test_endpoints_of_one_workspace_never_get_another_workspaces_events(
    hooked, receiver, django_capture_on_commit_callbacks
):
    other_owner = UserFactory(email="eve@evil.test")
    other = make_workspace(other_owner, "Evil")
    change(other_owner, other, django_capture_on_commit_callbacks)
    assert receiver.received == []
    assert not Delivery.objects.filter(endpoint=hooked, event__workspace=other).exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost/hook",
        "ftp://example.com/",
        "http://user:pass@example.com/",
        "not a url",
        "http://[::1/",
    ],
)
def test_private_and_odd_addresses_are_refused_at_save(settings, owner, workspace, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError):
        endpoint_add(actor=owner, workspace=workspace, url=url)
    assert not Endpoint.objects.exists()


def test_a_private_address_is_refused_at_delivery_too(
    settings, hooked, receiver, owner, workspace, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False  # saved while allowed; the host now resolves privately
    change(owner, workspace, django_capture_on_commit_callbacks)
    assert receiver.received == []
    attempt = Attempt.objects.get(delivery__endpoint=hooked, delivery__event__type="team.create")
    assert attempt.status_code is None and "private" in attempt.error


def test_a_public_address_passes_the_check():
    assert network._public(network.ipaddress.ip_address("93.184.216.34"))
    assert not network._public(network.ipaddress.ip_address("100.64.0.1"))  # shared address space
    assert not network._public(network.ipaddress.ip_address("2002:7f00:1::"))  # 6to4 of 127.0.0.1


def test_a_slow_receiver_times_out(settings, hooked, receiver, owner, workspace, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    change(owner, workspace, django_capture_on_commit_callbacks)
    attempt = Attempt.objects.get(delivery__endpoint=hooked, delivery__event__type="team.create")
    assert attempt.error == "Timed out." and attempt.status_code is None


def test_only_people_who_manage_webhooks_change_them(owner, workspace, receiver):
    admin = add_member(workspace, catalog.ADMIN).user
    member = add_member(workspace, catalog.MEMBER).user
    endpoint, _ = endpoint_add(actor=admin, workspace=workspace, url=receiver.url)
    with pytest.raises(PermissionDenied):
        endpoint_add(actor=member, workspace=workspace, url=receiver.url)
    with pytest.raises(PermissionDenied):
        endpoint_rotate_secret(actor=member, endpoint=endpoint)
    with pytest.raises(PermissionDenied):
        endpoint_remove(actor=member, endpoint=endpoint)
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_secret_stays_out_of_the_audit_log_and_the_logs(
    caplog, owner, workspace, receiver, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    receiver.answers = [500]
    endpoint, secret = endpoint_add(actor=owner, workspace=workspace, url=receiver.url)
    rotated = endpoint_rotate_secret(actor=owner, endpoint=endpoint)
    change(owner, workspace, django_capture_on_commit_callbacks)
    for text in (secret, rotated, secret[6:], rotated[6:]):
        assert text not in caplog.text
        for event in AuditEvent.objects.all():
            assert text not in json.dumps([event.before, event.after])
        for event in Event.objects.all():
            assert text not in json.dumps(event.payload)


# --- pages -----------------------------------------------------------------------------------------


def test_the_pages_add_show_once_change_rotate_redeliver_and_remove(
    client, owner, workspace, receiver, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    settings_page = client.get(reverse("settings:index", args=[workspace.slug])).content.decode()
    assert reverse("webhooks:list", args=[workspace.slug]) in settings_page
    created = client.post(
        reverse("webhooks:create", args=[workspace.slug]), {"url": receiver.url, "all_events": "on", "enabled": "on"}
    )
    assert created.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.secret in created.content.decode()
    assert "no-store" in created["Cache-Control"] or "no-cache" in created["Cache-Control"]
    receiver.secret = endpoint.secret
    change(owner, workspace, django_capture_on_commit_callbacks)

    for name in ("list", None):
        url = (
            reverse("webhooks:list", args=[workspace.slug])
            if name
            else reverse("webhooks:detail", args=[workspace.slug, endpoint.pk])
        )
        html = client.get(url).content.decode()
        assert endpoint.secret not in html and endpoint.secret[6:] not in html
    detail = client.get(reverse("webhooks:detail", args=[workspace.slug, endpoint.pk])).content.decode()
    assert "team.create" in detail and "Redeliver" in detail and "200" in detail

    edited = client.post(
        reverse("webhooks:edit", args=[workspace.slug, endpoint.pk]),
        {"url": receiver.url, "event_types": ["team.delete"], "enabled": "on"},
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["team.delete"]

    delivery = Delivery.objects.filter(endpoint=endpoint, event__type="team.create").get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:redeliver", args=[workspace.slug, endpoint.pk, delivery.pk]))
    assert delivery.attempt_log.count() == 2

    rotate = reverse("webhooks:rotate", args=[workspace.slug, endpoint.pk])
    asked = client.post(rotate)
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert endpoint.secret == old and "Rotate the secret" in asked.content.decode()
    rotated = client.post(rotate, {"confirm": "yes"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in rotated.content.decode()

    remove = reverse("webhooks:remove", args=[workspace.slug, endpoint.pk])
    client.post(remove)
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert client.post(remove, {"confirm": "yes"}).status_code == 302
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_private_address_is_refused_on_the_form(settings, client, owner, workspace):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(owner)
    answer = client.post(
        reverse("webhooks:create", args=[workspace.slug]),
        {"url": "http://169.254.169.254/", "all_events": "on", "enabled": "on"},
    )
    assert answer.status_code == 200 and "public addresses only" in answer.content.decode()
    assert not Endpoint.objects.exists()


def test_another_workspaces_endpoint_and_deliveries_are_404(
    client, owner, workspace, receiver, django_capture_on_commit_callbacks
):
    other_owner = UserFactory(email="other@else.test")
    other = make_workspace(other_owner, "Else")
    theirs, _ = endpoint_add(actor=other_owner, workspace=other, url=receiver.url)
    mine, _ = endpoint_add(actor=owner, workspace=workspace, url=receiver.url)
    change(other_owner, other, django_capture_on_commit_callbacks)
    their_delivery = Delivery.objects.filter(endpoint=theirs).first()
    client.force_login(owner)
    assert client.get(reverse("webhooks:detail", args=[workspace.slug, theirs.pk])).status_code == 404
    for name in ("edit", "rotate", "remove"):
        url = reverse(f"webhooks:{name}", args=[workspace.slug, theirs.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"confirm": "yes"}).status_code == 404
    url = reverse("webhooks:redeliver", args=[workspace.slug, mine.pk, their_delivery.pk])
    assert client.post(url).status_code == 404
    url = reverse("webhooks:redeliver", args=[workspace.slug, theirs.pk, their_delivery.pk])
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert Endpoint.objects.filter(pk=theirs.pk).exists()


def test_a_member_without_the_capability_gets_403(client, workspace):
    member = add_member(workspace, catalog.MEMBER).user
    client.force_login(member)
    assert client.get(reverse("webhooks:list", args=[workspace.slug])).status_code == 403
    assert client.get(reverse("webhooks:create", args=[workspace.slug])).status_code == 403


def test_hostile_form_input_is_no_500(client, owner, workspace):
    client.force_login(owner)
    for data in (
        {"url": "http://\x00/", "all_events": "on"},
        {"url": "x" * 5000, "all_events": "on"},
        {"url": "http://example.com/", "event_types": ["nope"]},
        {"url": "http://[::1/", "all_events": "on"},
    ):
        assert client.post(reverse("webhooks:create", args=[workspace.slug]), data).status_code == 200
    assert not Endpoint.objects.exists()
