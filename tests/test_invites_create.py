"""invite_create, invite_resend, invite_revoke: the rules of docs/RULES.md 4.2 (Invite), rules 3 and 6."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from permissions.roles import builtin_role, permissions_for
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.invites.selectors import invite_for_token
from workspaces.invites.services import (
    InviteBatchRefused,
    hash_token,
    invite_create,
    invite_resend,
    invite_revoke,
)
from workspaces.models import Invite, InviteSend, InviteSiteGrant
from workspaces.sites.services import site_grant_set

LINK = re.compile(r"http://testserver/invites/([A-Za-z0-9_-]+)/")


def role(key, scope=catalog.WORKSPACE):
    return builtin_role(key, scope)


def tokens_in_outbox():
    return [LINK.search(message.body).group(1) for message in mail.outbox]


def written():
    """What an invitation writes; a refused request must leave all of it unchanged."""
    return (Invite.objects.count(), InviteSend.objects.count(), AuditEvent.objects.count())


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """invite_create with the after-commit e-mails run, as in production."""

    def _invite(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return invite_create(**kwargs)

    return _invite


def test_invite_stores_only_the_hash_and_mails_the_link_after_commit(
    workspace, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = invite_create(actor=owner, workspace=workspace, emails=[" Ann@Example.COM "], role=role("admin"))
    assert mail.outbox == []  # nothing leaves before the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # renders the mail and queues it (kernel.mail.deliver)
    [invite] = result.invited
    [message] = mail.outbox
    token = tokens_in_outbox()[0]
    assert len(token) >= 43  # 32 random bytes, base64: 256 bits
    assert invite.email == "ann@example.com"
    assert invite.token_hash == hash_token(token)
    assert invite_for_token(token) == invite
    assert message.to == ["ann@example.com"]
    assert message.reply_to == [owner.email]
    for part in (message.body, message.alternatives[0][0], message.subject):
        assert "Acme" in part
        assert "Olivia Owner" in part
    assert "Admin" in message.body and "Admin" in message.alternatives[0][0]
    assert InviteSend.objects.filter(workspace=workspace, inviter=owner, email="ann@example.com").count() == 1
    event = AuditEvent.objects.get(action="invite.create")
    assert event.after["email"] == "ann@example.com" and event.after["role"] == "Admin"


def test_the_raw_token_is_nowhere_in_the_database(workspace, owner, invite, django_capture_on_commit_callbacks):
    site = make_site(workspace)
    invite(
        actor=owner,
        workspace=workspace,
        emails=["ann@example.com", "bob@example.com"],
        role=role("member"),
        site_grants=[(site, role(catalog.EDITOR, catalog.SITE))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        invite_resend(actor=owner, invite=Invite.objects.get(email="bob@example.com"))
    tokens = tokens_in_outbox()
    assert len(tokens) == 3
    stored = [str(values) for values in Invite.objects.values_list()]
    stored += [str(values) for values in AuditEvent.objects.values_list()]
    for token in tokens:
        assert not any(token in text for text in stored)


def test_member_role_cannot_invite(workspace, owner):
    member = add_member(workspace, catalog.MEMBER).user
    before = written()
    with pytest.raises(PermissionDenied):
        invite_create(actor=member, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    assert written() == before


def test_outsider_cannot_invite(workspace):
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        invite_create(actor=stranger, workspace=workspace, emails=["ann@example.com"], role=role("member"))


def test_inviting_a_member_refuses_the_whole_request_naming_them(workspace, owner):
    bob = add_member(workspace, catalog.VIEWER, user=UserFactory(email="bob@example.com")).user
    before = written()
    with pytest.raises(RuleViolation) as exc:
        invite_create(
            actor=owner, workspace=workspace, emails=["ann@example.com", "BOB@example.com"], role=role("member")
        )
    assert f"{bob.email} is already a member of Acme." in exc.value.messages
    assert written() == before


def test_bad_address_refused(workspace, owner):
    before = written()
    with pytest.raises(RuleViolation) as exc:
        invite_create(
            actor=owner, workspace=workspace, emails=["ann@example.com", "not an address"], role=role("member")
        )
    assert "“not an address” is not a valid e-mail address." in exc.value.messages
    assert written() == before


def test_pending_invite_is_refreshed_not_duplicated(workspace, owner, invite):
    site = make_site(workspace)
    team = make_team(workspace)
    invite(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("viewer"))
    [old_token] = tokens_in_outbox()
    result = invite(
        actor=owner,
        workspace=workspace,
        emails=["ANN@example.com"],
        role=role("admin"),
        site_grants=[(site, role(catalog.EDITOR, catalog.SITE))],
        teams=[team],
    )
    assert result.invited == [] and len(result.refreshed) == 1
    [pending] = Invite.objects.filter(workspace=workspace)
    new_token = tokens_in_outbox()[1]
    assert invite_for_token(old_token) is None  # the old link died
    assert invite_for_token(new_token) == pending
    assert pending.role.key == "admin" and pending.send_count == 2
    assert list(pending.site_grants.values_list("site", "role__key")) == [(site.pk, catalog.EDITOR)]
    assert list(pending.teams.all()) == [team]
    event = AuditEvent.objects.get(action="invite.refresh")
    assert event.before["role"] == "Viewer" and event.after["role"] == "Admin"


def test_admin_cannot_invite_an_owner(workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    before = written()
    with pytest.raises(RuleViolation) as exc:
        invite_create(actor=admin, workspace=workspace, emails=["ann@example.com"], role=role(catalog.OWNER))
    assert exc.value.messages == ["Only owners can make someone an owner."]
    assert written() == before


def test_owner_can_invite_an_owner(workspace, owner):
    result = invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role(catalog.OWNER))
    assert result.invited[0].role.is_owner


def _inviter_role(workspace):
    """A custom role that holds Member's capabilities and may invite, but holds no site capability."""
    custom = Role.objects.create(workspace=workspace, scope=catalog.WORKSPACE, key="recruiter", name="Recruiter")
    member_caps = next(r.capabilities for r in catalog.BUILTIN_WORKSPACE_ROLES if r.key == catalog.MEMBER)
    custom.permissions.set(permissions_for(catalog.WORKSPACE, {*member_caps, "invite_members"}))
    return custom


def test_site_grant_beyond_the_inviter_is_refused(workspace):
    site = make_site(workspace)
    recruiter = add_member(workspace, _inviter_role(workspace)).user
    with pytest.raises(RuleViolation) as exc:
        invite_create(
            actor=recruiter,
            workspace=workspace,
            emails=["ann@example.com"],
            role=role("member"),
            site_grants=[(site, role(catalog.SITE_VIEWER, catalog.SITE))],
        )
    assert "You cannot give capabilities you do not hold on Shop" in exc.value.messages[0]
    assert not Invite.objects.exists()
    # The same invitation without the grant goes through.
    invite_create(actor=recruiter, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    assert Invite.objects.count() == 1


def test_team_whose_grants_exceed_the_inviter_is_refused(workspace, owner):
    site = make_site(workspace)
    team = make_team(workspace, "Growth")
    site_grant_set(actor=None, site=site, role=role(catalog.EDITOR, catalog.SITE), team=team)
    recruiter = add_member(workspace, _inviter_role(workspace)).user
    with pytest.raises(RuleViolation) as exc:
        invite_create(actor=recruiter, workspace=workspace, emails=["a@example.com"], role=role("member"), teams=[team])
    assert "(through the team Growth)" in exc.value.messages[0]
    assert not Invite.objects.exists()
    invite_create(actor=owner, workspace=workspace, emails=["a@example.com"], role=role("member"), teams=[team])
    assert Invite.objects.get().teams.get() == team


def test_objects_of_another_workspace_are_refused(workspace, owner):
    other = make_workspace(UserFactory(), "Other")
    foreign_site = make_site(other, "Foreign")
    foreign_team = make_team(other, "Foreign team")
    for kwargs in ({"site_grants": [(foreign_site, role(catalog.EDITOR, catalog.SITE))]}, {"teams": [foreign_team]}):
        with pytest.raises(RuleViolation) as exc:
            invite_create(actor=owner, workspace=workspace, emails=["a@example.com"], role=role("member"), **kwargs)
        assert "is not in Acme" in exc.value.messages[0]
    with pytest.raises(RuleViolation):
        invite_create(
            actor=owner, workspace=workspace, emails=["a@example.com"], role=role(catalog.EDITOR, catalog.SITE)
        )
    assert not Invite.objects.exists()


# --- daily limits ------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.INVITE_LIMIT_PER_INVITER_PER_DAY = 3
    settings.INVITE_LIMIT_PER_WORKSPACE_PER_DAY = 5
    settings.INVITE_LIMIT_PER_ADDRESS_PER_DAY = 2
    return settings


def test_limit_per_inviter(workspace, owner, small_limits):
    invite_create(actor=owner, workspace=workspace, emails=["a@x.test", "b@x.test"], role=role("member"))
    before = written()
    with pytest.raises(InviteBatchRefused) as exc:
        invite_create(actor=owner, workspace=workspace, emails=["c@x.test", "d@x.test"], role=role("member"))
    assert exc.value.messages == [
        "owner@acme.test has sent 2 invitations in the last 24 hours; 2 more would pass the limit of 3 a day "
        "per person. Invite fewer people now, or try again later."
    ]
    assert written() == before
    # Another admin of the same workspace still has their own allowance.
    admin = add_member(workspace, catalog.ADMIN).user
    invite_create(actor=admin, workspace=workspace, emails=["c@x.test", "d@x.test"], role=role("member"))


def test_limit_per_workspace(workspace, owner, small_limits):
    admin = add_member(workspace, catalog.ADMIN).user
    invite_create(actor=owner, workspace=workspace, emails=["a@x.test", "b@x.test", "c@x.test"], role=role("member"))
    invite_create(actor=admin, workspace=workspace, emails=["d@x.test"], role=role("member"))
    with pytest.raises(InviteBatchRefused) as exc:
        invite_create(actor=admin, workspace=workspace, emails=["e@x.test", "f@x.test"], role=role("member"))
    assert exc.value.messages == [
        "Acme has sent 4 invitations in the last 24 hours; 2 more would pass the limit of 5 a day per workspace. "
        "Invite fewer people now, or try again later."
    ]
    assert Invite.objects.count() == 4


def test_limit_per_address_across_workspaces(workspace, owner, small_limits):
    other_owner = UserFactory()
    other = make_workspace(other_owner, "Other")
    invite_create(actor=owner, workspace=workspace, emails=["a@x.test"], role=role("member"))
    invite_create(actor=other_owner, workspace=other, emails=["A@x.test"], role=role("member"))
    third_owner = UserFactory()
    third = make_workspace(third_owner, "Third")
    with pytest.raises(InviteBatchRefused) as exc:
        invite_create(actor=third_owner, workspace=third, emails=["a@x.test", "b@x.test"], role=role("member"))
    assert exc.value.messages == [
        "a@x.test has received 2 invitations in the last 24 hours, the limit for one address; try again tomorrow."
    ]
    assert not Invite.objects.filter(workspace=third).exists()


def test_sends_older_than_a_day_do_not_count(workspace, owner, small_limits):
    from datetime import timedelta

    from django.utils import timezone

    invite_create(actor=owner, workspace=workspace, emails=["a@x.test", "b@x.test", "c@x.test"], role=role("member"))
    InviteSend.objects.update(sent_at=timezone.now() - timedelta(hours=25))
    invite_create(actor=owner, workspace=workspace, emails=["d@x.test", "e@x.test", "f@x.test"], role=role("member"))
    assert Invite.objects.count() == 6


# --- resend and revoke ---------------------------------------------------------------------------


def test_resend_kills_the_old_link(workspace, owner, invite, django_capture_on_commit_callbacks):
    invite(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    pending = Invite.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        invite_resend(actor=owner, invite=pending)
    old_token, new_token = tokens_in_outbox()
    assert invite_for_token(old_token) is None
    refreshed = invite_for_token(new_token)
    assert refreshed.pk == pending.pk and refreshed.send_count == 2 and refreshed.expires_at >= pending.expires_at
    assert AuditEvent.objects.filter(action="invite.resend", target_id=str(pending.pk)).count() == 1
    assert InviteSend.objects.count() == 2


def test_resend_counts_toward_the_limits(workspace, owner, invite, small_limits):
    invite(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    invite_resend(actor=owner, invite=Invite.objects.get())
    with pytest.raises(RuleViolation) as exc:
        invite_resend(actor=owner, invite=Invite.objects.get())
    assert "ann@example.com has received 2 invitations" in exc.value.messages[0]


def test_member_cannot_resend_or_revoke(workspace, owner):
    invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    member = add_member(workspace, catalog.MEMBER).user
    pending = Invite.objects.get()
    with pytest.raises(PermissionDenied):
        invite_resend(actor=member, invite=pending)
    with pytest.raises(PermissionDenied):
        invite_revoke(actor=member, invite=pending)
    assert Invite.objects.get().status == Invite.Status.PENDING


def test_revoke(workspace, owner, invite):
    invite(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    pending = Invite.objects.get()
    invite_revoke(actor=owner, invite=pending)
    pending.refresh_from_db()
    assert pending.status == Invite.Status.REVOKED and pending.revoked_at is not None
    assert AuditEvent.objects.filter(action="invite.revoke").count() == 1
    with pytest.raises(RuleViolation, match="already revoked"):
        invite_revoke(actor=owner, invite=pending)
    with pytest.raises(RuleViolation, match="only pending invitations can be resent"):
        invite_resend(actor=owner, invite=pending)
    # A revoked invitation does not block a new one for the same address.
    invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role("member"))
    assert Invite.objects.filter(status=Invite.Status.PENDING).count() == 1


def test_admin_cannot_revoke_an_owner_invitation(workspace, owner):
    invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=role(catalog.OWNER))
    admin = add_member(workspace, catalog.ADMIN).user
    with pytest.raises(RuleViolation):
        invite_revoke(actor=admin, invite=Invite.objects.get())
    assert Invite.objects.get().status == Invite.Status.PENDING


def test_query_count_does_not_grow_with_addresses(workspace, owner, django_capture_on_commit_callbacks):
    site = make_site(workspace)
    team = make_team(workspace)
    admin = add_member(workspace, catalog.ADMIN).user

    def count(n, prefix):
        emails = [f"{prefix}{i}@example.com" for i in range(n)]
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            invite_create(
                actor=admin,
                workspace=workspace,
                emails=emails,
                role=role("member"),
                site_grants=[(site, role(catalog.EDITOR, catalog.SITE))],
                teams=[team],
            )
        return len(queries)

    assert count(2, "a") == count(20, "b")
    assert len(mail.outbox) == 22
    assert InviteSiteGrant.objects.filter(site=site).count() == 22


def test_the_same_address_twice_is_invited_once(workspace, owner):
    result = invite_create(
        actor=owner, workspace=workspace, emails=["ann@example.com", " ANN@example.com", ""], role=role("member")
    )
    assert [i.email for i in result.invited] == ["ann@example.com"]
    with pytest.raises(RuleViolation, match="Enter at least one e-mail address."):
        invite_create(actor=owner, workspace=workspace, emails=["", "  "], role=role("member"))
