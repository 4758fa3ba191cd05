"""Mail about membership (workspaces.notices), read from the real outbox: who is told, who is not
(their notification setting off, the person who acted, a former member), what the mail says in
its plain-text and HTML parts, that it leaves after the commit only, and what it costs."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import email_verify, profile_update
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_workspace
from workspaces import notices
from workspaces.invites.services import invite_accept, invite_create
from workspaces.joining.services import join_domain_add, join_request_approve, join_request_decline
from workspaces.models import JoinDomain, JoinRequest, Membership
from workspaces.people.services import member_change_role, member_leave, member_remove, ownership_transfer

pytestmark = pytest.mark.django_db

UTC_TIME = re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} UTC")


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a change as in production: its transaction commits, then what was scheduled is sent."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


def to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def only_to(address: str):
    (message,) = to(address)
    return message


def html_of(message) -> str:
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    return html


def assert_both_parts_say(message, *phrases: str) -> None:
    html = html_of(message)
    for phrase in phrases:
        assert phrase in message.body, phrase
        assert phrase in html, phrase


def request_mode_domain(owner, workspace) -> JoinDomain:
    return join_domain_add(
        actor=owner,
        workspace=workspace,
        domain="acme.test",
        role=builtin_role(catalog.VIEWER),
        mode=JoinDomain.Mode.REQUEST,
    )


def ask_to_join(sent, email: str = "ann@acme.test", **fields) -> JoinRequest:
    """Verify an address at the request-mode domain: that files the join request."""
    person = UserFactory(email=email, full_name="Ann Asker", email_verified_at=None, **fields)
    sent(email_verify, person)
    return JoinRequest.objects.select_related("user", "workspace").get(user=person)


# --- join request filed -------------------------------------------------------------------------------


def test_join_request_tells_those_who_may_answer_it(sent, owner, workspace):
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="adam@acme.test")).user
    opted_out = add_member(workspace, catalog.ADMIN, UserFactory(email="otto@acme.test")).user
    profile_update(user=opted_out, notify_member_requests=False)
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test")).user
    billing = add_member(workspace, catalog.BILLING_ADMIN, UserFactory(email="bill@acme.test")).user
    request_mode_domain(owner, workspace)
    mail.outbox.clear()

    join_request = ask_to_join(sent)

    told = sorted(message.to[0] for message in mail.outbox if "asks to join" in message.subject)
    assert told == sorted([owner.email, admin.email])
    for nobody in (opted_out, member, billing, join_request.user):
        assert not to(nobody.email) or all("asks to join" not in m.subject for m in to(nobody.email))
    message = only_to(admin.email)
    assert message.subject == "Ann Asker (ann@acme.test) asks to join Acme"
    assert_both_parts_say(
        message,
        "Ann Asker (ann@acme.test) asks to join the workspace",
        "acme.test",
        "Viewer",
        f"http://testserver{reverse('join_requests:index', args=[workspace.slug])}",
        "http://testserver/accounts/profile/",
    )
    assert UTC_TIME.search(message.body) and UTC_TIME.search(html_of(message))


def test_join_request_mail_is_capped_owners_and_admins_first(sent, owner, workspace, monkeypatch):
    monkeypatch.setattr(notices, "JOIN_REQUEST_RECIPIENTS_MAX", 3)
    for n in range(4):
        add_member(workspace, catalog.ADMIN, UserFactory(email=f"admin{n}@acme.test"))
    second_owner = add_member(workspace, catalog.OWNER, UserFactory(email="zed-owner@acme.test")).user
    request_mode_domain(owner, workspace)
    mail.outbox.clear()
    ask_to_join(sent)
    told = [message.to[0] for message in mail.outbox]
    # Both owners first (whatever their address or when they joined), then the longest-serving admin.
    assert sorted(told) == sorted([owner.email, second_owner.email, "admin0@acme.test"])


@pytest.mark.parametrize("holders", [2, 12])
def test_finding_who_to_tell_is_one_query_at_any_size(owner, workspace, holders, django_assert_num_queries):
    for _ in range(holders - 1):
        add_member(workspace, catalog.ADMIN)
    for _ in range(5):
        add_member(workspace, catalog.MEMBER)
    with django_assert_num_queries(1):
        recipients = notices.join_request_recipients(workspace)
    assert len(recipients) == min(holders, notices.JOIN_REQUEST_RECIPIENTS_MAX)


def test_holders_leave_out_deactivated_accounts_and_other_workspaces(owner, workspace):
    gone = add_member(workspace, catalog.ADMIN, UserFactory(email="gone@acme.test")).user
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    make_workspace(UserFactory(email="stranger@other.test"), "Other")
    assert notices.join_request_recipients(workspace) == [owner.email]


def test_a_custom_role_with_invite_members_is_told_one_without_is_not(owner, workspace):
    recruiter = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Recruiter", capabilities={"invite_members"}
    )
    reader = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Reader", capabilities={"view_members"}
    )
    add_member(workspace, recruiter, UserFactory(email="rita@acme.test"))
    add_member(workspace, reader, UserFactory(email="rory@acme.test"))
    # Owners (and admins) first, then the other roles in their list order.
    assert notices.join_request_recipients(workspace) == [owner.email, "rita@acme.test"]


def test_no_mail_when_the_change_rolls_back(owner, workspace, django_capture_on_commit_callbacks):
    request_mode_domain(owner, workspace)
    person = UserFactory(email="ann@acme.test", email_verified_at=None)
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_verify(person)
        raise RuntimeError("something later in the same change failed")
    assert not callbacks and not mail.outbox
    assert not JoinRequest.objects.exists()


# --- join request answered --------------------------------------------------------------------------


def test_approval_tells_the_requester_with_role_and_link(sent, owner, workspace):
    request_mode_domain(owner, workspace)
    join_request = ask_to_join(sent)
    mail.outbox.clear()
    sent(join_request_approve, actor=owner, join_request=join_request)
    message = only_to("ann@acme.test")
    assert message.subject == "You are now a member of Acme"
    assert_both_parts_say(
        message, "Olivia Owner (owner@acme.test) approved your request", "Viewer", "http://testserver/w/acme/"
    )
    assert UTC_TIME.search(message.body)
    assert not to(owner.email)  # the approver is not told of their own decision


def test_decline_tells_the_requester_without_a_link_to_the_workspace(sent, owner, workspace):
    request_mode_domain(owner, workspace)
    join_request = ask_to_join(sent)
    mail.outbox.clear()
    sent(join_request_decline, actor=owner, join_request=join_request)
    message = only_to("ann@acme.test")
    assert message.subject == "Your request to join Acme was declined"
    assert_both_parts_say(message, "Olivia Owner (owner@acme.test) declined your request")
    assert "/w/acme/" not in message.body and "/w/acme/" not in html_of(message)


def test_answer_is_not_mailed_to_someone_who_turned_it_off(sent, owner, workspace):
    request_mode_domain(owner, workspace)
    join_request = ask_to_join(sent, notify_workspace_changes=False)
    mail.outbox.clear()
    sent(join_request_approve, actor=owner, join_request=join_request)
    assert not mail.outbox
    assert Membership.objects.filter(user=join_request.user, workspace=workspace).exists()


# --- role change and removal -----------------------------------------------------------------------------


def test_role_change_tells_the_member_not_the_actor(sent, owner, workspace):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    sent(member_change_role, actor=owner, membership=membership, role=builtin_role(catalog.VIEWER))
    message = only_to("mia@acme.test")
    assert message.subject == "Your role in Acme is now Viewer"
    assert_both_parts_say(
        message,
        "Olivia Owner (owner@acme.test) changed your role",
        "Member",
        "Viewer",
        "http://testserver/w/acme/",
    )
    assert UTC_TIME.search(message.body) and UTC_TIME.search(html_of(message))
    assert not to(owner.email)


def test_role_change_is_not_mailed_when_the_setting_is_off(sent, owner, workspace):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    profile_update(user=membership.user, notify_workspace_changes=False)
    sent(member_change_role, actor=owner, membership=membership, role=builtin_role(catalog.VIEWER))
    assert not mail.outbox


def test_unchanged_role_mails_nobody(sent, owner, workspace):
    membership = add_member(workspace, catalog.MEMBER)
    sent(member_change_role, actor=owner, membership=membership, role=builtin_role(catalog.MEMBER))
    assert not mail.outbox


def test_role_change_from_the_people_page_mails_through_the_service(client, owner, workspace, sent):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    client.force_login(owner)
    url = reverse("people:change_role", args=[workspace.slug, membership.pk])
    response = sent(client.post, url, {"role": builtin_role(catalog.VIEWER).pk})
    assert response.status_code == 302
    assert only_to("mia@acme.test").subject == "Your role in Acme is now Viewer"


def test_ownership_handed_over_tells_the_new_owner_not_the_one_stepping_down(sent, owner, workspace):
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="adam@acme.test"))
    sent(ownership_transfer, actor=owner, workspace=workspace, to=admin, step_down=True)
    assert only_to("adam@acme.test").subject == "Your role in Acme is now Owner"
    assert not to(owner.email)


def test_removal_tells_the_person_removed(sent, owner, workspace):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    sent(member_remove, actor=owner, membership=membership)
    message = only_to("mia@acme.test")
    assert message.subject == "You were removed from Acme"
    assert_both_parts_say(message, "Olivia Owner (owner@acme.test) removed you", "You were Member there")
    assert UTC_TIME.search(message.body)
    assert "/w/acme/" not in message.body  # no link to a workspace they can no longer open
    assert not to(owner.email)


def test_removal_by_the_system_names_the_administrators(sent, workspace):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    sent(member_remove, actor=None, membership=membership)
    assert "An administrator of the portal removed you" in only_to("mia@acme.test").body


def test_leaving_mails_nobody(sent, workspace):
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    sent(member_leave, membership=membership)
    assert not mail.outbox


# --- invitation accepted ------------------------------------------------------------------------------


def accept_invitation(sent, inviter, workspace, email="ann@example.test"):
    sent(invite_create, actor=inviter, workspace=workspace, emails=[email], role=builtin_role(catalog.MEMBER))
    token = re.search(r"/invites/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)
    mail.outbox.clear()
    person = UserFactory(email=email, full_name="Ann Example")
    sent(invite_accept, invite_token=token, user=person)
    return token


def test_accepted_invitation_tells_the_inviter(sent, owner, workspace):
    token = accept_invitation(sent, owner, workspace)
    message = only_to(owner.email)
    assert message.subject == "Ann Example (ann@example.test) joined Acme"
    assert_both_parts_say(
        message,
        "Ann Example (ann@example.test) accepted your invitation",
        "Member",
        "http://testserver/w/acme/people/",
    )
    assert UTC_TIME.search(message.body)
    # The invitation's link is a secret: no mail about it carries the token.
    assert token not in message.body and token not in html_of(message)
    assert not to("ann@example.test")


def test_accepted_invitation_respects_the_inviters_setting(sent, owner, workspace):
    profile_update(user=owner, notify_member_requests=False)
    accept_invitation(sent, owner, workspace)
    assert not mail.outbox


def test_invitation_by_the_system_tells_nobody(sent, workspace):
    accept_invitation(sent, None, workspace)
    assert not mail.outbox


# --- content and cost ---------------------------------------------------------------------------------


def test_times_are_in_utc_whatever_the_servers_time_zone(sent, owner, workspace, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: a local time would show another hour
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    before = timezone.now().astimezone(datetime.UTC)
    sent(member_change_role, actor=owner, membership=membership, role=builtin_role(catalog.VIEWER))
    after = timezone.now().astimezone(datetime.UTC)
    shown = UTC_TIME.search(only_to("mia@acme.test").body).group(0)
    assert shown in {notices.in_utc(before), notices.in_utc(after)}
    assert notices.in_utc(datetime.datetime(2026, 12, 1, 23, 30, tzinfo=datetime.UTC)) == "1 December 2026, 23:30 UTC"


def test_names_are_escaped_in_the_html_part_only(sent, workspace):
    actor = add_member(workspace, catalog.OWNER, UserFactory(email="eve@acme.test", full_name="<b>Eve</b>")).user
    membership = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    sent(member_change_role, actor=actor, membership=membership, role=builtin_role(catalog.VIEWER))
    message = only_to("mia@acme.test")
    assert "<b>Eve</b> (eve@acme.test)" in message.body
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html_of(message) and "<b>Eve</b>" not in html_of(message)


def change_roles(owner, memberships, role) -> int:
    """Queries for changing every membership's role in one transaction, mail sent at the end."""
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for membership in memberships:
            member_change_role(actor=owner, membership=membership, role=role)
    return len(queries)


def test_many_role_changes_cost_no_query_per_notice(owner, workspace, django_capture_on_commit_callbacks):
    """What bulk changes on the people page do: notices read nothing per recipient. A change costs
    the same with the member's mail on or off, and the mail is all sent after the commit."""
    members = [
        Membership.objects.select_related("user", "role", "workspace").get(pk=add_member(workspace).pk)
        for _ in range(6)
    ]
    for member in members[3:]:
        profile_update(user=member.user, notify_workspace_changes=False)
        member.user.refresh_from_db()
    viewer = builtin_role(catalog.VIEWER)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        told = change_roles(owner, members[:3], viewer)
    with django_capture_on_commit_callbacks(execute=True):
        not_told = change_roles(owner, members[3:], viewer)
    assert told == not_told
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in members[:3])


def test_send_functions_need_no_database(django_assert_num_queries):
    """Plain data in, mail queued (sent by the mail task once the transaction commits)."""
    context = {
        "workspace": "Acme",
        "workspace_url": "http://testserver/w/acme/",
        "settings_url": "http://testserver/accounts/profile/",
        "previous_role": "Member",
        "role": "Viewer",
        "changed_by": "Olivia Owner (owner@acme.test)",
        "changed_at": "1 December 2026, 09:30 UTC",
    }
    with django_assert_num_queries(0), TestCase.captureOnCommitCallbacks(execute=True):
        assert notices.send_role_changed(recipients=["a@x.test", "b@x.test"], context=context) == 2
    assert [m.to for m in mail.outbox] == [["a@x.test"], ["b@x.test"]]  # nobody sees the other address
