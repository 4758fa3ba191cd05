"""Bulk actions of the people page: a role, a team or removal for the rows ticked or every member
matching the page's filter, and resending or revoking many invitations. Each row is reported as
changed, unchanged or refused with its reason; a batch that would leave the workspace without an
active owner changes nobody; one audit event per person; the cost per batch does not grow per row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import RoleGroup
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.invites.services import invite_create
from workspaces.models import Invite, Membership, TeamMembership
from workspaces.people import bulk
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db

ADMIN, MEMBER, VIEWER, OWNER = catalog.ADMIN, catalog.MEMBER, catalog.VIEWER, catalog.OWNER


def url(name, workspace):
    return reverse(f"people:{name}", args=[workspace.slug])


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


CONFIRMED = {"confirm": "yes"}  # actions that take something away are confirmed first (tests/test_confirmations.py)


def post_members(client, actor, workspace, action, ids=(), **extra):
    client.force_login(actor)
    data = {
        **CONFIRMED,
        "action": action,
        "scope": extra.pop("scope", "selected"),
        "member": [str(pk) for pk in ids],
        **extra,
    }
    return client.post(url("bulk_members", workspace), data)


def post_invites(client, actor, workspace, action, ids=(), **extra):
    client.force_login(actor)
    data = {
        **CONFIRMED,
        "action": action,
        "scope": extra.pop("scope", "selected"),
        "invite": [str(pk) for pk in ids],
        **extra,
    }
    return client.post(url("bulk_invites", workspace), data)


def report(client, workspace) -> dict[str, tuple[str, str]]:
    """{who: (outcome, detail)} of the report page, which must render."""
    page = client.get(url("bulk_report", workspace))
    assert page.status_code == 200
    return {row.who: (row.outcome, row.detail) for row in page.context["rows"]}


def role_key(member) -> str:
    return Membership.objects.select_related("role").get(pk=member.pk).role.key


def people(workspace, count, key=MEMBER, prefix="p"):
    return [
        add_member(workspace, key, user=UserFactory(email=f"{prefix}{n:04d}@x.test", full_name=f"Pat {prefix}{n:04d}"))
        for n in range(count)
    ]


def in_role_group(member, key) -> bool:
    group_id = RoleGroup.objects.get(workspace_id=member.workspace_id, role=builtin_role(key)).group_id
    return Group.objects.filter(pk=group_id, user=member.user_id).exists()


@pytest.fixture
def admin(workspace):
    return add_member(workspace, ADMIN, user=UserFactory(email="ada@acme.test"))


# --- role change -------------------------------------------------------------------------------------


def test_role_change_of_the_rows_ticked(client, workspace, owner):
    chosen = people(workspace, 3)
    left_alone = people(workspace, 1, prefix="q")[0]
    before = AuditEvent.objects.count()
    response = post_members(client, owner, workspace, "role", [m.pk for m in chosen], new_role=builtin_role(VIEWER).pk)
    assert response.status_code == 302 and response.url == url("bulk_report", workspace)
    rows = report(client, workspace)
    assert rows == {m.user.email: ("changed", "Member → Viewer") for m in chosen}
    assert all(role_key(m) == VIEWER and in_role_group(m, VIEWER) and not in_role_group(m, MEMBER) for m in chosen)
    assert role_key(left_alone) == MEMBER
    events = AuditEvent.objects.order_by("id")[before:]
    assert [e.action for e in events] == ["member.role_change"] * 3  # one per person
    assert {e.target_id for e in events} == {str(m.pk) for m in chosen}
    assert events[0].before["role"] == "Member" and events[0].after["role"] == "Viewer"


def test_role_change_of_all_matching_the_filter_resolved_on_the_server(client, workspace, owner):
    zeds = people(workspace, 4, prefix="zed")
    others = people(workspace, 3, prefix="amy")
    response = post_members(
        client, owner, workspace, "role", scope="all", filter="q=zed&sort=-email", new_role=builtin_role(VIEWER).pk
    )
    assert response.url == url("bulk_report", workspace)
    rows = client.get(url("bulk_report", workspace)).context["rows"]
    assert [row.who for row in rows] == sorted((m.user.email for m in zeds), reverse=True)  # the list's order
    assert all(role_key(m) == VIEWER for m in zeds) and all(role_key(m) == MEMBER for m in others)
    assert "q=zed" in client.get(url("bulk_report", workspace)).content.decode()  # back to the same search


def test_unchanged_and_own_role_are_reported_per_row(client, workspace, owner, admin):
    viewer = add_member(workspace, VIEWER)
    member = add_member(workspace, MEMBER)
    post_members(
        client, admin.user, workspace, "role", [viewer.pk, member.pk, admin.pk], new_role=builtin_role(VIEWER).pk
    )
    rows = report(client, workspace)
    assert rows[viewer.user.email] == ("unchanged", "already Viewer")
    assert rows[member.user.email][0] == "changed"
    assert rows[admin.user.email] == ("refused", "You cannot change your own role.")
    assert role_key(admin) == ADMIN


def test_rule_3_refuses_each_row_and_changes_the_rest(client, workspace, owner, admin):
    """An admin may not give Owner (a forged choice) nor touch an owner's role; other rows go through."""
    members = people(workspace, 2)
    second_owner = add_member(workspace, OWNER)
    before = AuditEvent.objects.count()
    post_members(client, admin.user, workspace, "role", [m.pk for m in members], new_role=builtin_role(OWNER).pk)
    assert set(report(client, workspace).values()) == {("refused", "Only owners can make someone an owner.")}
    assert all(role_key(m) == MEMBER for m in members) and AuditEvent.objects.count() == before

    post_members(
        client, admin.user, workspace, "role", [members[0].pk, second_owner.pk], new_role=builtin_role(VIEWER).pk
    )
    rows = report(client, workspace)
    assert rows[second_owner.user.email] == ("refused", "Only owners can change an owner's role.")
    assert rows[members[0].user.email][0] == "changed"
    assert role_key(second_owner) == OWNER and AuditEvent.objects.count() == before + 1


def test_a_custom_role_beyond_the_actors_own_is_refused_per_row(client, workspace, owner):
    wide = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Wide",
        capabilities={"view_members", "manage_billing"},
    )
    narrow = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Role desk",
        capabilities={"view_members", "change_member_roles"},
    )
    desk = add_member(workspace, narrow)
    target = add_member(workspace, VIEWER)
    post_members(client, desk.user, workspace, "role", [target.pk], new_role=wide.pk)
    outcome, detail = report(client, workspace)[target.user.email]
    assert outcome == "refused" and "manage_billing" in detail
    assert role_key(target) == VIEWER


def test_demoting_every_owner_is_refused_whole(client, workspace, owner):
    """Rule 1, all or nothing: the owner steps down and demotes the other owner in one batch; the
    member of the same batch is not changed either."""
    other_owner = add_member(workspace, OWNER)
    member = add_member(workspace, MEMBER)
    mine = Membership.objects.get(workspace=workspace, user=owner)
    before = AuditEvent.objects.count()
    response = post_members(
        client,
        owner,
        workspace,
        "role",
        [mine.pk, other_owner.pk, member.pk],
        new_role=builtin_role(ADMIN).pk,
        filter="q=a",
    )
    assert response.url == url("index", workspace) + "?q=a"
    assert "without an active owner" in said(response) and "nothing was changed" in said(response)
    assert role_key(mine) == OWNER and role_key(other_owner) == OWNER and role_key(member) == MEMBER
    assert AuditEvent.objects.count() == before


def test_demoting_owners_while_one_remains(client, workspace, owner):
    owners = people(workspace, 2, key=OWNER, prefix="o")
    mine = Membership.objects.get(workspace=workspace, user=owner)
    post_members(client, owner, workspace, "role", [mine.pk, owners[0].pk], new_role=builtin_role(ADMIN).pk)
    assert {o for o, _ in report(client, workspace).values()} == {"changed"}  # an owner may step down
    assert role_key(mine) == ADMIN and role_key(owners[1]) == OWNER and in_role_group(owners[0], ADMIN)


def test_a_deactivated_owner_does_not_count_as_remaining(workspace, owner):
    dormant = add_member(workspace, OWNER)
    dormant.user.is_active = False
    dormant.user.save(update_fields=["is_active"])
    mine = Membership.objects.get(workspace=workspace, user=owner)
    with pytest.raises(RuleViolation, match="without an active owner"):
        bulk.members_change_role(actor=None, workspace=workspace, member_ids=[mine.pk], role=builtin_role(ADMIN))


def test_promoting_to_owner_by_an_owner(client, workspace, owner):
    members = people(workspace, 2)
    post_members(client, owner, workspace, "role", [m.pk for m in members], new_role=builtin_role(OWNER).pk)
    assert all(role_key(m) == OWNER and in_role_group(m, OWNER) for m in members)


# --- teams --------------------------------------------------------------------------------------------


def test_add_to_and_remove_from_a_team(client, workspace, owner):
    team = make_team(workspace, "Growth")
    members = people(workspace, 3)
    team_add_member(actor=None, team=team, membership=members[0])
    before = AuditEvent.objects.count()
    post_members(client, owner, workspace, "team_add", [m.pk for m in members], bulk_team=team.pk)
    rows = report(client, workspace)
    assert rows[members[0].user.email] == ("unchanged", "already in Growth")
    assert rows[members[1].user.email] == ("changed", "added to Growth")
    assert TeamMembership.objects.filter(team=team).count() == 3
    assert Group.objects.filter(pk=team.group_id, user=members[2].user_id).exists()
    assert list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True)) == ["team.member_add"] * 2

    post_members(client, owner, workspace, "team_remove", [members[0].pk, members[1].pk], bulk_team=team.pk)
    assert {o for o, _ in report(client, workspace).values()} == {"changed"}
    assert list(TeamMembership.objects.filter(team=team).values_list("membership_id", flat=True)) == [members[2].pk]
    assert not Group.objects.filter(pk=team.group_id, user=members[0].user_id).exists()
    post_members(client, owner, workspace, "team_remove", [members[0].pk], bulk_team=team.pk)
    assert report(client, workspace)[members[0].user.email] == ("unchanged", "not in Growth")


def test_rule_3_a_team_whose_grants_are_beyond_the_actor_is_refused_per_row(client, workspace, owner):
    team = make_team(workspace, "Editors")
    site = make_site(workspace, "Shop")
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    lead_role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Team lead",
        capabilities={"view_members", "manage_teams"},
    )
    lead = add_member(workspace, lead_role)
    members = people(workspace, 2)
    post_members(client, lead.user, workspace, "team_add", [m.pk for m in members], bulk_team=team.pk)
    rows = report(client, workspace)
    assert {o for o, _ in rows.values()} == {"refused"} and all("Editors" in d for _, d in rows.values())
    assert not TeamMembership.objects.filter(team=team).exists()


# --- removal ------------------------------------------------------------------------------------------


def test_remove_members_with_their_grants_and_teams(client, workspace, owner):
    team = make_team(workspace, "Growth")
    members = people(workspace, 3)
    site_owner = add_member(workspace, MEMBER)
    site = make_site(workspace, "Shop", owner=site_owner)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=members[0])
    team_add_member(actor=None, team=team, membership=members[1])
    before = AuditEvent.objects.count()
    post_members(client, owner, workspace, "remove", [*(m.pk for m in members), site_owner.pk])
    rows = report(client, workspace)
    assert rows[members[0].user.email] == ("changed", "removed (was Member)")
    assert rows[site_owner.user.email][0] == "refused" and "owns Shop" in rows[site_owner.user.email][1]
    assert not Membership.objects.filter(pk__in=[m.pk for m in members]).exists()
    assert Membership.objects.filter(pk=site_owner.pk).exists()
    assert not TeamMembership.objects.filter(team=team).exists()
    assert not Group.objects.filter(user=members[1].user_id, pk=team.group_id).exists()
    assert not Group.objects.filter(user=members[0].user_id, role_group__workspace=workspace).exists()
    events = AuditEvent.objects.order_by("id")[before:]
    assert [e.action for e in events] == ["member.remove"] * 3


def test_removal_refuses_yourself_and_owners_for_non_owners(client, workspace, owner, admin):
    second_owner = add_member(workspace, OWNER)
    member = add_member(workspace, MEMBER)
    post_members(client, admin.user, workspace, "remove", [admin.pk, second_owner.pk, member.pk])
    rows = report(client, workspace)
    assert rows[admin.user.email] == ("refused", "To leave the workspace yourself, use Leave.")
    assert rows[second_owner.user.email] == ("refused", "Only owners can remove an owner.")
    assert rows[member.user.email][0] == "changed"


def test_removing_every_owner_is_refused_whole(workspace, owner):
    """Only the system can select every owner for removal (a person cannot remove themselves)."""
    member = add_member(workspace, MEMBER)
    mine = Membership.objects.get(workspace=workspace, user=owner)
    with pytest.raises(RuleViolation, match="without an active owner"):
        bulk.members_remove(actor=None, workspace=workspace, member_ids=[mine.pk, member.pk])
    assert Membership.objects.filter(pk__in=[mine.pk, member.pk]).count() == 2


# --- invitations --------------------------------------------------------------------------------------


def invites(workspace, actor, count, prefix="inv"):
    emails = [f"{prefix}{n:03d}@x.test" for n in range(count)]
    invite_create(actor=actor, workspace=workspace, emails=emails, role=builtin_role(MEMBER), send_email=False)
    return list(Invite.objects.filter(workspace=workspace, email__in=emails).order_by("email"))


def test_resend_and_revoke_invitations(client, workspace, owner, django_capture_on_commit_callbacks):
    sent = invites(workspace, owner, 3)
    old_hashes = {i.pk: i.token_hash for i in sent}
    with django_capture_on_commit_callbacks(execute=True):
        post_invites(client, owner, workspace, "resend", [i.pk for i in sent[:2]])
    assert {o for o, _ in report(client, workspace).values()} == {"changed"}
    assert len(mail.outbox) == 2
    assert all(Invite.objects.get(pk=i.pk).token_hash != old_hashes[i.pk] for i in sent[:2])
    before = AuditEvent.objects.count()
    post_invites(client, owner, workspace, "revoke", [i.pk for i in sent])
    assert {o for o, _ in report(client, workspace).values()} == {"changed"}
    assert set(Invite.objects.filter(pk__in=[i.pk for i in sent]).values_list("status", flat=True)) == {"revoked"}
    assert AuditEvent.objects.filter(action="invite.revoke").count() == 3 == AuditEvent.objects.count() - before
    post_invites(client, owner, workspace, "revoke", [sent[0].pk])
    assert report(client, workspace)[sent[0].email] == ("unchanged", "already revoked")
    post_invites(client, owner, workspace, "resend", [sent[0].pk])
    assert report(client, workspace)[sent[0].email][0] == "refused"


def test_all_pending_invitations(client, workspace, owner):
    sent = invites(workspace, owner, 4)
    post_invites(client, owner, workspace, "revoke", scope="all")
    assert len(report(client, workspace)) == 4
    assert not Invite.objects.filter(pk__in=[i.pk for i in sent], status="pending").exists()


# --- capabilities, other workspaces, hostile input ----------------------------------------------------


@pytest.fixture
def viewer_of(workspace):
    return add_member(workspace, VIEWER)


def _role_without(workspace, capability):
    granted = {"view_members", "change_member_roles", "remove_members", "manage_teams", "invite_members"}
    return role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name=f"No {capability}",
        capabilities=granted - {capability},
    )


@pytest.mark.parametrize(
    ("action", "capability", "extra"),
    [
        ("role", "change_member_roles", {"new_role": "viewer"}),
        ("team_add", "manage_teams", {"bulk_team": "team"}),
        ("team_remove", "manage_teams", {"bulk_team": "team"}),
        ("remove", "remove_members", {}),
    ],
)
def test_members_actions_need_their_capability(client, workspace, owner, action, capability, extra):
    team = make_team(workspace, "Growth")
    target = add_member(workspace, MEMBER)
    if action == "team_remove":
        team_add_member(actor=None, team=team, membership=target)
    values = {"viewer": builtin_role(VIEWER).pk, "team": team.pk}
    data = {key: values[value] for key, value in extra.items()}
    lacking = add_member(workspace, _role_without(workspace, capability))
    viewer = add_member(workspace, VIEWER)
    before = AuditEvent.objects.count()
    assert post_members(client, lacking.user, workspace, action, [target.pk], **data).status_code == 403
    assert AuditEvent.objects.count() == before and role_key(target) == MEMBER
    assert post_members(client, viewer.user, workspace, action, [target.pk], **data).status_code == 403
    assert post_members(client, owner, workspace, action, [target.pk], **data).status_code == 302
    assert AuditEvent.objects.count() == before + 1  # granted, the same request goes through


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_invite_actions_need_invite_members(client, workspace, owner, action):
    sent = invites(workspace, owner, 1)
    lacking = add_member(workspace, _role_without(workspace, "invite_members"))
    assert post_invites(client, lacking.user, workspace, action, [sent[0].pk]).status_code == 403
    assert Invite.objects.get(pk=sent[0].pk).status == "pending"


def test_the_report_needs_view_members_and_shows_nothing_without_an_action(client, workspace, owner):
    billing = add_member(workspace, catalog.BILLING_ADMIN)
    client.force_login(billing.user)
    assert client.get(url("bulk_report", workspace)).status_code == 403
    client.force_login(owner)
    assert client.get(url("bulk_report", workspace)).url == url("index", workspace)


def test_another_workspaces_ids_are_reported_never_touched(client, workspace, owner):
    other = make_workspace(UserFactory(), "Other")
    theirs = add_member(other, MEMBER)
    their_team = make_team(other, "Theirs")
    their_invite = invites(other, Membership.objects.get(workspace=other, role__key=OWNER).user, 1)[0]
    mine = add_member(workspace, MEMBER)
    post_members(client, owner, workspace, "role", [theirs.pk, mine.pk], new_role=builtin_role(VIEWER).pk)
    rows = report(client, workspace)
    assert rows[f"#{theirs.pk}"] == ("refused", bulk.NOT_HERE) and rows[mine.user.email][0] == "changed"
    assert role_key(theirs) == MEMBER
    post_members(client, owner, workspace, "remove", [theirs.pk])
    assert Membership.objects.filter(pk=theirs.pk).exists()
    response = post_members(client, owner, workspace, "team_add", [mine.pk], bulk_team=their_team.pk)
    assert response.url == url("index", workspace) and not TeamMembership.objects.filter(team=their_team).exists()
    post_invites(client, owner, workspace, "revoke", [their_invite.pk])
    assert report(client, workspace)[f"#{their_invite.pk}"][0] == "refused"
    assert Invite.objects.get(pk=their_invite.pk).status == "pending"
    # another workspace's role, and posting to a workspace one is not a member of
    their_role = role_save(
        actor=None, workspace=other, scope=catalog.WORKSPACE, name="Theirs", capabilities={"view_members"}
    )
    post_members(client, owner, workspace, "role", [mine.pk], new_role=their_role.pk)
    assert not Membership.objects.filter(role=their_role).exists()
    assert post_members(client, owner, other, "remove", [theirs.pk]).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"member": ["abc"]},
        {"member": ["١"]},  # an Arabic-Indic digit one
        {"member": ["-1"]},
        {"member": ["1e3"]},
        {"member": ["\x00"]},
        {"member": ["9" * 30]},
        {"member": [str(n) for n in range(1, 900)], "carried": ",".join(str(n) for n in range(900, 2200))},
        {"carried": ",".join(str(n) for n in range(1, 1500))},
        {"carried": "1,x,2"},
        {"member": []},
        {"scope": "everyone", "member": ["1"]},
        {"action": "delete_workspace", "member": ["1"]},
        {"new_role": "owner", "member": ["1"]},
        {"new_role": "", "member": ["1"]},
        {"filter": "\x00" * 10_000, "scope": "all"},
    ],
)
def test_hostile_input_changes_nothing_and_never_breaks(client, workspace, owner, data):
    members = people(workspace, 2)
    data = {**CONFIRMED, "action": "role", "scope": "selected", "new_role": builtin_role(VIEWER).pk, **data}
    client.force_login(owner)
    before = AuditEvent.objects.count()
    response = client.post(url("bulk_members", workspace), data)
    assert response.status_code == 302 and response.url.startswith(url("index", workspace))
    assert said(response)
    assert AuditEvent.objects.count() == before and all(role_key(m) == MEMBER for m in members)


def test_more_fields_than_django_reads_is_a_bad_request(client, workspace, owner):
    client.force_login(owner)
    data = {"action": "remove", "scope": "selected", "member": [str(n) for n in range(1, 2500)]}
    assert client.post(url("bulk_members", workspace), data).status_code == 400
    assert Membership.objects.filter(workspace=workspace).exists()


def test_more_than_the_limit_is_refused(client, workspace, owner, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_BATCH", 3)
    members = people(workspace, 4)
    response = post_members(client, owner, workspace, "role", scope="all", new_role=builtin_role(VIEWER).pk)
    assert "More than 3 match" in said(response)
    with pytest.raises(RuleViolation, match="At most 3"):
        bulk.members_remove(actor=None, workspace=workspace, member_ids=[m.pk for m in members])
    assert all(role_key(m) == MEMBER for m in members)


# --- cost -------------------------------------------------------------------------------------------


def _queries(client, actor, workspace, action, ids, **extra) -> int:
    client.force_login(actor)
    data = {**CONFIRMED, "action": action, "scope": "selected", "member": [str(pk) for pk in ids], **extra}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url("bulk_members", workspace), data)
    assert response.status_code == 302 and response.url == url("bulk_report", workspace)
    return len(captured)


@pytest.mark.parametrize("action", ["role", "team_add", "remove"])
def test_cost_does_not_grow_with_the_selection(client, workspace, owner, action):
    """The same number of queries for 5 and for 50 people: constant per batch, nothing per row."""
    team = make_team(workspace, "Growth")
    extra = {"role": {"new_role": builtin_role(VIEWER).pk}, "team_add": {"bulk_team": team.pk}, "remove": {}}[action]
    small = _queries(client, owner, workspace, action, [m.pk for m in people(workspace, 5, prefix="s")], **extra)
    large = _queries(client, owner, workspace, action, [m.pk for m in people(workspace, 50, prefix="l")], **extra)
    assert small == large
    assert (
        AuditEvent.objects.filter(action__in=["member.role_change", "team.member_add", "member.remove"]).count() == 55
    )


def test_cost_of_an_owner_batch_is_bounded(client, workspace, owner):
    """A batch touching Owner adds its locks and rule 1's count: still constant."""
    small = _queries(
        client,
        owner,
        workspace,
        "role",
        [m.pk for m in people(workspace, 5, prefix="s")],
        new_role=builtin_role(OWNER).pk,
    )
    large = _queries(
        client,
        owner,
        workspace,
        "role",
        [m.pk for m in people(workspace, 50, prefix="l")],
        new_role=builtin_role(OWNER).pk,
    )
    assert small == large


def test_invitations_cost_a_bounded_number_of_queries_each(client, workspace, owner):
    """Each invitation goes through invite_resend / invite_revoke (their rules, limits and locks), so
    the cost grows by the same few queries per invitation, whatever the size of the batch."""

    def cost(action, count, prefix):
        ids = [i.pk for i in invites(workspace, owner, count, prefix=prefix)]
        client.force_login(owner)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                url("bulk_invites", workspace), {**CONFIRMED, "action": action, "scope": "selected", "invite": ids}
            )
        assert response.url == url("bulk_report", workspace)
        return len(captured)

    # Two of each invitation's queries are the webhook outbox of its audit event (the event's
    # insert and the read of the workspace's endpoints; docs/ARCHITECTURE.md, "Events and webhooks").
    for action, bound in (("revoke", 9), ("resend", 27)):
        per_invitation = (cost(action, 10, f"{action}b") - cost(action, 5, f"{action}a")) / 5
        assert per_invitation == int(per_invitation) and per_invitation <= bound


def test_all_matching_nobody_changes_nothing(client, workspace, owner):
    response = post_members(client, owner, workspace, "remove", scope="all", filter="q=nobody-here")
    assert response.url == url("index", workspace) + "?q=nobody-here"
    assert "Nothing matches" in said(response)
    assert Membership.objects.filter(workspace=workspace).count() == 1
