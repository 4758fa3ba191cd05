"""Rule 3, nobody gives what they do not hold, on every path that places a person where grants come
with it: team membership, pending invitations refreshed by someone else, invitations and join
domains whose maker lost the right to give them, and the admin (the system) as the one exception.

Each test is the attacker's move, as found by the outside attack, and what must come of it.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kernel.errors import RuleViolation
from permissions import catalog
from permissions.keys import key_create
from permissions.policy import Access
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team
from workspaces.invites.services import invite_accept, invite_create
from workspaces.joining.services import auto_join
from workspaces.models import Invite, JoinDomain, JoinRequest, Membership, TeamMembership
from workspaces.people.services import member_change_role
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_keeper(workspace):
    """A member whose custom role may manage teams and see people, and nothing on any site."""
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Team keeper",
        capabilities={"view_workspace", "view_members", "manage_teams"},
    )
    return add_member(workspace, role)


@pytest.fixture
def editors_team(workspace):
    """A team whose members edit dashboards on the Shop site."""
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Shop editors")
    site_grant_set(actor=None, site=site, team=team, role=builtin_role(catalog.EDITOR, catalog.SITE))
    return team, site


def test_a_team_keeper_cannot_join_a_team_whose_grants_they_do_not_hold(team_keeper, editors_team):
    team, site = editors_team
    with pytest.raises(RuleViolation, match="through the team Shop editors"):
        team_add_member(actor=team_keeper.user, team=team, membership=team_keeper)
    assert not TeamMembership.objects.filter(team=team).exists()
    assert not Access(team_keeper.user).has("change_dashboards", site)


def test_nor_add_anyone_else_to_it(workspace, team_keeper, editors_team):
    team, _ = editors_team
    other = add_member(workspace, catalog.VIEWER)
    with pytest.raises(RuleViolation):
        team_add_member(actor=team_keeper.user, team=team, membership=other)


def test_through_the_browser_the_check_api_stays_false(client, workspace, team_keeper, editors_team):
    """The attack as it was run: POST the team's member form, then ask the check API."""
    team, site = editors_team
    client.force_login(team_keeper.user)
    response = client.post(
        f"/w/{workspace.slug}/teams/{team.pk}/members/", {"email": team_keeper.user.email}, follow=True
    )
    assert response.status_code == 200
    assert "You cannot give capabilities you do not hold" in response.content.decode()
    raw = key_create(actor=None, workspace=workspace, name="Platform")[1]
    answer = client.get(
        "/api/v1/check",
        {"user": team_keeper.user.email, "permission": "change_dashboards", "site": site.slug},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert answer.json()["allowed"] is False


def test_a_team_whose_grants_the_actor_holds_can_be_joined(workspace, owner, editors_team):
    """The refused side's twin: the owner holds everything, so the same move succeeds."""
    team, site = editors_team
    member = add_member(workspace, catalog.VIEWER)
    team_add_member(actor=owner, team=team, membership=member)
    assert Access(member.user).has("change_dashboards", site)


def test_the_system_is_not_held_to_rule_3(workspace, team_keeper, editors_team):
    team, _ = editors_team
    team_add_member(actor=None, team=team, membership=team_keeper)  # the admin and commands
    assert TeamMembership.objects.filter(team=team, membership=team_keeper).exists()


# --- refreshing someone else's invitation ---------------------------------------------------------


def test_an_admin_cannot_turn_the_owners_owner_invitation_into_a_member_one(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN).user
    invite_create(actor=owner, workspace=workspace, emails=["next-owner@acme.test"], role=builtin_role(catalog.OWNER))
    with pytest.raises(RuleViolation, match="could not have made"):
        invite_create(
            actor=admin, workspace=workspace, emails=["next-owner@acme.test"], role=builtin_role(catalog.MEMBER)
        )
    invite = Invite.objects.get(email="next-owner@acme.test")
    assert invite.role.key == catalog.OWNER
    assert invite.invited_by == owner


def test_an_admin_may_refresh_an_invitation_they_could_have_made(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN).user
    invite_create(actor=owner, workspace=workspace, emails=["someone@acme.test"], role=builtin_role(catalog.VIEWER))
    invite_create(actor=admin, workspace=workspace, emails=["someone@acme.test"], role=builtin_role(catalog.MEMBER))
    assert Invite.objects.get(email="someone@acme.test").role.key == catalog.MEMBER


def test_the_browser_form_refuses_the_takeover_too(client, workspace, owner):
    admin = add_member(workspace, catalog.ADMIN).user
    invite_create(actor=owner, workspace=workspace, emails=["boss@acme.test"], role=builtin_role(catalog.OWNER))
    client.force_login(admin)
    client.post(
        f"/w/{workspace.slug}/people/invites/",
        {"emails": "boss@acme.test", "role": builtin_role(catalog.MEMBER).pk},
    )
    assert Invite.objects.get(email="boss@acme.test").role.key == catalog.OWNER


# --- stale rights ---------------------------------------------------------------------------------


def _invite(capture, actor, workspace, email, role) -> str:
    """Invite one address and return the link's token, read from the e-mail as the invitee would."""
    with capture(execute=True):
        invite_create(actor=actor, workspace=workspace, emails=[email], role=role)
    return re.search(r"/invites/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)


def test_an_invitation_outlives_its_makers_rights_only_on_paper(
    client, workspace, owner, django_capture_on_commit_callbacks
):
    """An Admin invites someone as Admin and is then made a Member: the link no longer works, the
    page says so, and nothing is granted."""
    admin = add_member(workspace, catalog.ADMIN)
    token = _invite(
        django_capture_on_commit_callbacks, admin.user, workspace, "newcomer@acme.test", builtin_role(catalog.ADMIN)
    )
    member_change_role(actor=owner, membership=admin, role=builtin_role(catalog.MEMBER))
    newcomer = UserFactory(email="newcomer@acme.test")
    with pytest.raises(RuleViolation, match="may give now"):
        invite_accept(invite_token=token, user=newcomer)
    assert not Membership.objects.filter(workspace=workspace, user=newcomer).exists()
    client.force_login(newcomer)
    page = client.get(f"/invites/{token}/")
    assert page.status_code == 410
    assert "may no longer give" in page.content.decode()
    client.post(f"/invites/{token}/")
    assert not Membership.objects.filter(workspace=workspace, user=newcomer).exists()


def test_an_invitation_from_someone_who_left_cannot_be_used(workspace, owner, django_capture_on_commit_callbacks):
    admin = add_member(workspace, catalog.ADMIN)
    token = _invite(
        django_capture_on_commit_callbacks, admin.user, workspace, "late@acme.test", builtin_role(catalog.VIEWER)
    )
    Membership.objects.filter(pk=admin.pk).delete()  # gone, however it happened
    with pytest.raises(RuleViolation):
        invite_accept(invite_token=token, user=UserFactory(email="late@acme.test"))


def test_an_invitation_whose_maker_still_may_give_it_works(workspace, owner, django_capture_on_commit_callbacks):
    admin = add_member(workspace, catalog.ADMIN)
    token = _invite(
        django_capture_on_commit_callbacks, admin.user, workspace, "fine@acme.test", builtin_role(catalog.VIEWER)
    )
    membership = invite_accept(invite_token=token, user=UserFactory(email="fine@acme.test"))
    assert membership.role.key == catalog.VIEWER


def _verified_domain(workspace, role, added_by):
    return JoinDomain.objects.create(
        workspace=workspace,
        domain="acme.test",
        role=role,
        added_by=added_by,
        verification_token="t",
        verified_at=timezone.now(),
        verification_method=JoinDomain.Method.EMAIL,
    )


def test_a_join_domain_whose_adder_lost_the_role_files_a_request_instead(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN)
    _verified_domain(workspace, builtin_role(catalog.ADMIN), admin.user)
    member_change_role(actor=owner, membership=admin, role=builtin_role(catalog.MEMBER))
    newcomer = UserFactory(email="walk-in@acme.test", email_verified_at=timezone.now())
    result = auto_join(newcomer)
    assert isinstance(result, JoinRequest)
    assert not Membership.objects.filter(workspace=workspace, user=newcomer).exists()


def test_a_join_domain_whose_adder_still_may_give_the_role_joins(workspace, owner):
    _verified_domain(workspace, builtin_role(catalog.MEMBER), owner)
    newcomer = UserFactory(email="walk-in@acme.test", email_verified_at=timezone.now())
    assert isinstance(auto_join(newcomer), Membership)


def test_a_non_member_gives_nothing(workspace, editors_team):
    team, _ = editors_team
    stranger = UserFactory()
    target = add_member(workspace, catalog.VIEWER)
    with pytest.raises(PermissionDenied):
        team_add_member(actor=stranger, team=team, membership=target)


def test_the_join_domain_picker_offers_only_roles_the_person_may_give(client, workspace):
    """A domain keeper (a custom role with join domains and little else) is not offered Member,
    which holds more than they do; the service would refuse it anyway."""
    keeper_role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Domain keeper",
        capabilities={"view_workspace", "manage_auto_join", "view_members", "view_all_analytics"},
        site_capabilities=catalog.SITE_VIEW_CAPABILITIES,
    )
    keeper = add_member(workspace, keeper_role)
    client.force_login(keeper.user)
    page = client.get(f"/w/{workspace.slug}/settings/join-domains/")
    offered = {label.partition(" — ")[0] for _, label in page.context["form"].fields["role"].choices}
    assert "Viewer" in offered
    assert "Member" not in offered


def test_the_site_grant_picker_offers_only_roles_the_person_may_give(client, workspace):
    """A site manager who only views the site is offered Site viewer, not Editor or Site admin."""
    manager_role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Access keeper",
        capabilities={"view_workspace", "view_members", "manage_site_access"},
        site_capabilities=catalog.SITE_VIEW_CAPABILITIES | {"add_highlights"},  # what Site viewer holds
    )
    keeper = add_member(workspace, manager_role)
    site = make_site(workspace, "Shop")
    client.force_login(keeper.user)
    page = client.get(f"/w/{workspace.slug}/sites/{site.slug}/access/")
    offered = {label.partition(" — ")[0] for _, label in page.context["grant_form"].fields["role"].choices}
    assert "Site viewer" in offered
    assert not offered & {"Editor", "Site admin"}
