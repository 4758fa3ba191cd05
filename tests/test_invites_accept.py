"""invite_accept and purge_expired_invites: docs/RULES.md 4.3 (Accept), rule 6."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.policy import Access
from permissions.roles import builtin_role
from tests.factories import UserFactory, make_site, make_team, make_workspace
from workspaces.invites.services import invite_accept, invite_create, invite_revoke, purge_expired_invites
from workspaces.models import Invite, Membership

LINK = re.compile(r"/invites/([A-Za-z0-9_-]+)/")


def send_invite(django_capture_on_commit_callbacks, actor, workspace, email="ann@example.com", **kwargs):
    """Invite one address and return the link's token, read from the e-mail as the invitee would."""
    kwargs.setdefault("role", builtin_role(catalog.MEMBER))
    with django_capture_on_commit_callbacks(execute=True):
        invite_create(actor=actor, workspace=workspace, emails=[email], **kwargs)
    return LINK.search(mail.outbox[-1].body).group(1)


@pytest.fixture
def invite_token(workspace, owner, django_capture_on_commit_callbacks):
    return send_invite(django_capture_on_commit_callbacks, owner, workspace)


def test_accept_joins_with_role_grants_and_teams(workspace, owner, django_capture_on_commit_callbacks):
    site = make_site(workspace)
    team = make_team(workspace, "Growth")
    token = send_invite(
        django_capture_on_commit_callbacks,
        owner,
        workspace,
        role=builtin_role(catalog.VIEWER),
        site_grants=[(site, builtin_role(catalog.EDITOR, catalog.SITE))],
        teams=[team],
    )
    ann = UserFactory(email="ann@example.com", email_verified_at=None)
    membership = invite_accept(invite_token=token, user=ann)
    assert membership.workspace == workspace and membership.role.key == catalog.VIEWER
    assert membership.invited_by == owner
    assert "add_dashboards" in Access(ann).perms(site)  # the editor grant took effect
    assert list(membership.teams.all()) == [team]
    ann.refresh_from_db()
    assert ann.email_verified_at is not None  # following the link proved the address
    invite = Invite.objects.get()
    assert invite.status == Invite.Status.ACCEPTED and invite.accepted_by == ann
    assert AuditEvent.objects.filter(action="invite.accept", actor=ann, target_id=str(invite.pk)).exists()


def test_address_is_compared_without_letter_case(workspace, invite_token):
    ann = UserFactory(email="ANN@example.com")
    assert invite_accept(invite_token=invite_token, user=ann).user == ann


def test_other_account_is_refused_by_name(workspace, invite_token):
    bob = UserFactory(email="bob@example.com")
    with pytest.raises(RuleViolation) as exc:
        invite_accept(invite_token=invite_token, user=bob)
    assert exc.value.messages == [
        "The invitation to Acme is for ann@example.com, but you are signed in as bob@example.com. "
        "Sign out, then sign in or sign up as ann@example.com."
    ]
    assert not Membership.objects.filter(user=bob).exists()
    assert Invite.objects.get().status == Invite.Status.PENDING


def test_used_link_is_refused(workspace, invite_token):
    ann = UserFactory(email="ann@example.com")
    invite_accept(invite_token=invite_token, user=ann)
    with pytest.raises(RuleViolation) as exc:
        invite_accept(invite_token=invite_token, user=ann)
    assert exc.value.messages == [
        "The invitation to Acme has already been used. Ask owner@acme.test for a new invitation."
    ]


def test_expired_link_is_refused(workspace, invite_token):
    Invite.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    ann = UserFactory(email="ann@example.com")
    with pytest.raises(RuleViolation) as exc:
        invite_accept(invite_token=invite_token, user=ann)
    assert "The invitation to Acme expired on " in exc.value.messages[0]
    assert exc.value.messages[0].endswith("Ask owner@acme.test for a new invitation.")
    assert not Membership.objects.filter(user=ann).exists()


def test_revoked_link_is_refused(workspace, owner, invite_token):
    invite_revoke(actor=owner, invite=Invite.objects.get())
    ann = UserFactory(email="ann@example.com")
    with pytest.raises(RuleViolation) as exc:
        invite_accept(invite_token=invite_token, user=ann)
    assert exc.value.messages == ["The invitation to Acme was withdrawn. Ask owner@acme.test for a new invitation."]
    assert not Membership.objects.filter(user=ann).exists()


def test_unknown_link_is_refused(workspace, invite_token):
    ann = UserFactory(email="ann@example.com")
    for token in ("", invite_token[:-1] + ("A" if invite_token[-1] != "A" else "B"), "x" * 5000):
        with pytest.raises(RuleViolation, match="This invitation link is not valid"):
            invite_accept(invite_token=token, user=ann)


def test_system_invitation_says_to_ask_an_administrator(workspace, django_capture_on_commit_callbacks):
    token = send_invite(django_capture_on_commit_callbacks, None, workspace)
    assert "The administrators of Acme" in mail.outbox[-1].body
    Invite.objects.update(status=Invite.Status.REVOKED)
    with pytest.raises(RuleViolation, match="Ask an administrator of Acme for a new invitation."):
        invite_accept(invite_token=token, user=UserFactory(email="ann@example.com"))


@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs PostgreSQL's row locks and concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_make_one_membership():
    owner = UserFactory(email="owner@acme.test")
    workspace = make_workspace(owner, "Acme")
    invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=builtin_role(catalog.MEMBER))
    token = LINK.search(mail.outbox[-1].body).group(1)  # no test transaction: on_commit ran at once
    ann = UserFactory(email="ann@example.com")
    start = threading.Barrier(2)
    outcomes = []

    def accept():
        try:
            start.wait()
            invite_accept(invite_token=token, user=ann)
            outcomes.append("joined")
        except RuleViolation as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [
        "The invitation to Acme has already been used. Ask owner@acme.test for a new invitation.",
        "joined",
    ]
    assert Membership.objects.filter(workspace=workspace, user=ann).count() == 1
    assert AuditEvent.objects.filter(action="invite.accept").count() == 1


def test_purge_deletes_only_long_expired_unaccepted_invites(workspace, owner):
    invite_create(
        actor=owner,
        workspace=workspace,
        emails=["old@x.test", "old-revoked@x.test", "old-accepted@x.test", "recent@x.test", "fresh@x.test"],
        role=builtin_role(catalog.MEMBER),
    )
    now = timezone.now()
    Invite.objects.filter(email__startswith="old").update(expires_at=now - timedelta(days=31))
    Invite.objects.filter(email="old-revoked@x.test").update(status=Invite.Status.REVOKED)
    Invite.objects.filter(email="old-accepted@x.test").update(status=Invite.Status.ACCEPTED)
    Invite.objects.filter(email="recent@x.test").update(expires_at=now - timedelta(days=29))
    assert purge_expired_invites() == 2
    assert sorted(Invite.objects.values_list("email", flat=True)) == [
        "fresh@x.test",
        "old-accepted@x.test",
        "recent@x.test",
    ]
    event = AuditEvent.objects.get(action="invite.purge")
    assert event.workspace == workspace and event.after["deleted"] == 2
    assert purge_expired_invites() == 0
