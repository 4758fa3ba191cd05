"""Inviting from the team page, resending and revoking (docs/RULES.md 4.2, rules 3 and 6)."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.invites.services import hash_token, invite_create
from workspaces.models import Invite, InviteSiteGrant

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/invites/([A-Za-z0-9_-]+)/")


def url(name, workspace, *args):
    return reverse(f"people:{name}", args=[workspace.slug, *args])


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


def invite_form(client, user, workspace, capture, **data):
    data.setdefault("role", builtin_role(catalog.MEMBER).pk)
    client.force_login(user)
    with capture(execute=True):
        return client.post(url("invite", workspace), data)


def token_for(address: str) -> str:
    sent = [m for m in mail.outbox if address in m.to]
    return LINK.search(sent[-1].body).group(1)


def test_owner_invites_several_addresses_with_grants_and_teams(
    client, workspace, owner, django_capture_on_commit_callbacks
):
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    response = invite_form(
        client,
        owner,
        workspace,
        django_capture_on_commit_callbacks,
        emails="Ann@Example.com, bob@example.com\ncid@example.com",
        role=builtin_role(catalog.VIEWER).pk,
        site_1=site.pk,
        site_role_1=editor.pk,
        teams=[team.pk],
    )
    assert response.status_code == 302 and response.url == url("index", workspace)
    assert "Invited as Viewer: ann@example.com, bob@example.com, cid@example.com." in said(response)
    invites = Invite.objects.filter(workspace=workspace).order_by("email")
    assert [i.email for i in invites] == ["ann@example.com", "bob@example.com", "cid@example.com"]
    assert {i.role.key for i in invites} == {catalog.VIEWER}
    assert InviteSiteGrant.objects.filter(site=site, role=editor).count() == 3
    assert all(list(i.teams.all()) == [team] for i in invites)
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com", "cid@example.com"]
    assert AuditEvent.objects.filter(action="invite.create").count() == 3


def test_raw_token_is_only_in_the_email(client, workspace, owner, django_capture_on_commit_callbacks):
    invite_form(client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com")
    token = token_for("ann@example.com")
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    invite = Invite.objects.get()
    assert invite.token_hash == hash_token(token) and token not in invite.token_hash
    for event in AuditEvent.objects.all():
        assert token not in f"{event.before} {event.after} {event.target_repr}"
    assert not Invite.objects.filter(token_hash=token).exists()


def test_pending_address_is_refreshed_not_duplicated(client, workspace, owner, django_capture_on_commit_callbacks):
    invite_form(client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com")
    old = token_for("ann@example.com")
    response = invite_form(
        client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com, new@example.com"
    )
    text = said(response)
    assert "Invited as Member: new@example.com." in text
    assert "the invitation was refreshed" in text and "ann@example.com." in text
    assert Invite.objects.filter(email="ann@example.com").count() == 1
    assert token_for("ann@example.com") != old
    assert client.get(reverse("invites:accept", args=[old])).status_code == 404  # the old link died


def test_existing_member_refuses_the_whole_request(client, workspace, owner, django_capture_on_commit_callbacks):
    add_member(workspace, catalog.MEMBER, user=UserFactory(email="bob@example.com"))
    response = invite_form(
        client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com, bob@example.com"
    )
    assert response.status_code == 200
    assert "bob@example.com is already a member of Acme." in response.content.decode()
    assert "ann@example.com, bob@example.com" in response.content.decode()  # the form keeps what was typed
    assert not Invite.objects.exists() and not mail.outbox


def test_bad_addresses_are_named(client, workspace, owner, django_capture_on_commit_callbacks):
    response = invite_form(
        client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com, not-an-address, x@"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "“not-an-address”, “x@” are not valid e-mail addresses. Nobody was invited." in html
    assert not Invite.objects.exists()


def test_empty_form_asks_for_an_address(client, workspace, owner, django_capture_on_commit_callbacks):
    response = invite_form(client, owner, workspace, django_capture_on_commit_callbacks, emails=" , \n")
    assert "Enter at least one e-mail address." in response.content.decode()
    assert not Invite.objects.exists()


def test_admin_cannot_invite_an_owner(client, workspace, django_capture_on_commit_callbacks):
    admin = add_member(workspace, catalog.ADMIN)
    response = invite_form(
        client,
        admin.user,
        workspace,
        django_capture_on_commit_callbacks,
        emails="ann@example.com",
        role=builtin_role(catalog.OWNER).pk,
    )
    assert "Only owners can make someone an owner." in response.content.decode()
    assert not Invite.objects.exists()


def test_role_above_the_inviters_is_refused(client, workspace, django_capture_on_commit_callbacks):
    admin = add_member(workspace, catalog.ADMIN)
    billing = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Accounts",
        capabilities={"view_workspace", "manage_billing"},
        site_capabilities=set(),
    )
    response = invite_form(
        client, admin.user, workspace, django_capture_on_commit_callbacks, emails="ann@example.com", role=billing.pk
    )
    assert "You cannot give capabilities you do not hold: manage_billing." in response.content.decode()
    assert not Invite.objects.exists()


def test_another_workspaces_role_site_or_team_is_refused(client, workspace, owner, django_capture_on_commit_callbacks):
    elsewhere = make_workspace(UserFactory(), "Elsewhere")
    site, team = make_site(elsewhere, "Theirs"), make_team(elsewhere, "Theirs")
    foreign_role = role_save(
        actor=None,
        workspace=elsewhere,
        scope=catalog.WORKSPACE,
        name="Foreign",
        capabilities={"view_workspace"},
        site_capabilities=set(),
    )
    editor = builtin_role(catalog.EDITOR, catalog.SITE).pk
    for data in ({"role": foreign_role.pk}, {"site_1": site.pk, "site_role_1": editor}, {"teams": [team.pk]}):
        response = invite_form(
            client, owner, workspace, django_capture_on_commit_callbacks, emails="ann@example.com", **data
        )
        assert response.status_code == 200
        assert "Select a valid choice." in response.content.decode()
    assert not Invite.objects.exists()


def test_site_grant_rows_need_both_halves(client, workspace, owner, django_capture_on_commit_callbacks):
    site = make_site(workspace, "Shop")
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    response = invite_form(
        client, owner, workspace, django_capture_on_commit_callbacks, emails="a@x.test", site_1=site.pk
    )
    assert "Choose a role on Shop." in response.content.decode()
    response = invite_form(
        client,
        owner,
        workspace,
        django_capture_on_commit_callbacks,
        emails="a@x.test",
        site_1=site.pk,
        site_role_1=editor.pk,
        site_2=site.pk,
        site_role_2=editor.pk,
    )
    assert "Shop is chosen more than once." in response.content.decode()
    assert not Invite.objects.exists()


def test_daily_limit_is_shown(client, workspace, owner, settings, django_capture_on_commit_callbacks):
    settings.INVITE_LIMIT_PER_INVITER_PER_DAY = 1
    response = invite_form(client, owner, workspace, django_capture_on_commit_callbacks, emails="a@x.test, b@x.test")
    assert "would pass the limit of 1 a day per person" in response.content.decode()
    assert not Invite.objects.exists()


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_invite_members_are_refused(client, workspace, role_key, django_capture_on_commit_callbacks):
    user = add_member(workspace, role_key).user
    response = invite_form(client, user, workspace, django_capture_on_commit_callbacks, emails="a@x.test")
    assert response.status_code == 403
    assert not Invite.objects.exists()


def test_outsider_gets_404(client, workspace, django_capture_on_commit_callbacks):
    response = invite_form(client, UserFactory(), workspace, django_capture_on_commit_callbacks, emails="a@x.test")
    assert response.status_code == 404


# --- resend and revoke ------------------------------------------------------------------------------


@pytest.fixture
def pending(workspace, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_create(actor=owner, workspace=workspace, emails=["ann@example.com"], role=builtin_role(catalog.MEMBER))
    return Invite.objects.get()


def test_resend_gives_a_new_link_and_kills_the_old(
    client, workspace, owner, pending, django_capture_on_commit_callbacks
):
    old = token_for("ann@example.com")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("invite_resend", workspace, pending.pk))
    assert "A new link is on its way to ann@example.com; the old link no longer works." in said(response)
    new = token_for("ann@example.com")
    assert new != old
    assert client.get(reverse("invites:accept", args=[old])).status_code == 404
    assert client.get(reverse("invites:accept", args=[new])).status_code == 200
    assert AuditEvent.objects.filter(action="invite.resend").count() == 1


def test_revoke_kills_the_link(client, workspace, owner, pending):
    token = token_for("ann@example.com")
    client.force_login(owner)
    response = client.post(url("invite_revoke", workspace, pending.pk), {"confirm": "yes"})
    assert "The invitation for ann@example.com is revoked; its link no longer works." in said(response)
    pending.refresh_from_db()
    assert pending.status == Invite.Status.REVOKED
    assert AuditEvent.objects.filter(action="invite.revoke").count() == 1
    assert "was withdrawn" in client.get(reverse("invites:accept", args=[token])).content.decode()

    response = client.post(url("invite_resend", workspace, pending.pk))  # nothing left to resend
    assert "only pending invitations can be resent" in said(response)
    response = client.post(url("invite_revoke", workspace, pending.pk), {"confirm": "yes"})
    assert "is already revoked" in said(response)
    assert AuditEvent.objects.filter(action="invite.revoke").count() == 1


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER])
def test_resend_and_revoke_need_invite_members(client, workspace, pending, role_key):
    client.force_login(add_member(workspace, role_key).user)
    for name in ("invite_resend", "invite_revoke"):
        assert client.post(url(name, workspace, pending.pk)).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Invite.Status.PENDING and pending.send_count == 1


def test_other_workspaces_invites_are_404(client, workspace, owner, pending):
    other_owner = UserFactory()
    elsewhere = make_workspace(other_owner, "Elsewhere")
    client.force_login(other_owner)
    for name in ("invite_resend", "invite_revoke"):
        assert client.post(url(name, elsewhere, pending.pk)).status_code == 404
    pending.refresh_from_db()
    assert pending.status == Invite.Status.PENDING and pending.send_count == 1
