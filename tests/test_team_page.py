"""The team page: who sees it, which controls each role gets, and its cost at 5 and 300 members."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.invites.services import invite_create
from workspaces.models import JoinRequest
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


def page(client, user, workspace):
    client.force_login(user)
    return client.get(reverse("people:index", args=[workspace.slug]))


def url(name, workspace, *args):
    return reverse(f"people:{name}", args=[workspace.slug, *args])


def without_search_form(html: str) -> str:
    """The page without its search form, whose role filter lists every role (to find, not to give)."""
    return re.sub(r'<form method="get".*?</form>', "", html, flags=re.S)


@pytest.fixture
def people(workspace, owner):
    """One member of each built-in role besides the owner, a second owner, a pending invitation
    and a pending join request."""
    members = {key: add_member(workspace, key) for key in (catalog.ADMIN, catalog.MEMBER, catalog.VIEWER)}
    members[catalog.BILLING_ADMIN] = add_member(workspace, catalog.BILLING_ADMIN)
    members["owner2"] = add_member(workspace, catalog.OWNER)
    invite_create(
        actor=owner, workspace=workspace, emails=["pending@x.test"], role=builtin_role(catalog.VIEWER), send_email=False
    )
    JoinRequest.objects.create(workspace=workspace, user=UserFactory(email="asker@corp.test"))
    return members


def test_owner_sees_every_control(client, workspace, owner, people):
    html = page(client, owner, workspace).content.decode()
    for key in (catalog.ADMIN, catalog.MEMBER, catalog.VIEWER, "owner2"):
        member = people[key]
        assert url("change_role", workspace, member.pk) in html
        assert url("remove", workspace, member.pk) in html
    assert url("invite", workspace) in html
    assert url("transfer", workspace) in html
    assert url("leave", workspace) in html  # another owner exists
    invite = workspace.invites.get()
    assert "pending@x.test" in html
    assert url("invite_resend", workspace, invite.pk) in html
    assert url("invite_revoke", workspace, invite.pk) in html
    assert "asker@corp.test" in html
    join_request = JoinRequest.objects.get()
    for name in ("approve", "decline"):
        assert reverse(f"join_requests:{name}", args=[workspace.slug, join_request.pk]) in html


def test_nobody_gets_a_control_on_their_own_row(client, workspace, owner, people):
    html = page(client, owner, workspace).content.decode()
    mine = owner.memberships.get()
    assert url("change_role", workspace, mine.pk) not in html
    assert url("remove", workspace, mine.pk) not in html


def test_admin_gets_no_control_on_owners_and_no_transfer(client, workspace, owner, people):
    admin = people[catalog.ADMIN]
    html = page(client, admin.user, workspace).content.decode()
    for member in (owner.memberships.get(), people["owner2"]):
        assert url("change_role", workspace, member.pk) not in html
        assert url("remove", workspace, member.pk) not in html
    assert url("change_role", workspace, people[catalog.MEMBER].pk) in html
    assert url("remove", workspace, people[catalog.MEMBER].pk) in html
    assert url("transfer", workspace) not in html
    assert url("invite", workspace) in html
    # Rule 3: an admin is offered no Owner in any drop-down (the search form's role filter aside).
    owner_role = builtin_role(catalog.OWNER)
    assert f'<option value="{owner_role.pk}"' not in without_search_form(html)


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER])
def test_member_and_viewer_see_the_list_without_controls(client, workspace, owner, people, role_key):
    response = page(client, people[role_key].user, workspace)
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(people[catalog.ADMIN].user.display_name) in html
    assert "pending@x.test" in html  # view_members covers pending invitations
    for name in ("change_role", "remove"):
        assert url(name, workspace, people[catalog.ADMIN].pk) not in html
    invite = workspace.invites.get()
    for forbidden in (
        url("invite", workspace),
        url("transfer", workspace),
        url("invite_resend", workspace, invite.pk),
        url("invite_revoke", workspace, invite.pk),
    ):
        assert forbidden not in html
    assert "asker@corp.test" not in html  # join requests are for those who invite
    assert "/join-requests/" not in html
    assert url("leave", workspace) in html


def test_billing_admin_is_refused_and_outsiders_get_404(client, workspace, people):
    assert page(client, people[catalog.BILLING_ADMIN].user, workspace).status_code == 403
    assert page(client, UserFactory(), workspace).status_code == 404
    other = make_workspace(UserFactory(), "Other")
    assert page(client, people[catalog.MEMBER].user, other).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(client, workspace):
    response = client.get(url("index", workspace))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_site_owner_row_offers_a_successor(client, workspace, owner, people):
    member = people[catalog.MEMBER]
    make_site(workspace, "Shop", owner=member)
    html = page(client, owner, workspace).content.decode()
    assert f'for="successor-{member.pk}">New owner of Shop<' in html
    assert f'id="successor-{people[catalog.VIEWER].pk}"' not in html


def test_last_owner_is_told_they_cannot_leave(client, workspace, owner):
    html = page(client, owner, workspace).content.decode()
    assert "You are the last owner of Acme, so you cannot leave it." in html
    assert url("leave", workspace) not in html


def test_custom_role_beyond_an_admin_is_not_offered_to_them(client, workspace, people):
    from permissions.services import role_save

    billing = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Accounts",
        capabilities={"view_workspace", "manage_billing"},
        site_capabilities=set(),
    )
    reader = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Reader",
        capabilities={"view_workspace", "view_members"},
        site_capabilities=set(),
    )
    html = without_search_form(page(client, people[catalog.ADMIN].user, workspace).content.decode())
    assert f'<option value="{reader.pk}"' in html
    assert f'<option value="{billing.pk}"' not in html


def test_teams_are_listed_beside_their_members(client, workspace, owner, people):
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=people[catalog.MEMBER])
    html = page(client, owner, workspace).content.decode()
    assert "<td>Growth</td>" in html


# --- cost -----------------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions; roles with their capabilities
# (3) and teams for the search form; members counted, one page of them, their teams; site owners,
# active owners counted; pending invitations counted and one page; join requests counted and one
# page, visible sites for the invitation form
OWNER_QUERIES = 14  # at most 15 (README: people at scale)
MEMBER_QUERIES = 11  # no active owners, invitation form or join requests


def fill(workspace, owner, size: int) -> None:
    """``size`` members in all, in two teams, a site owned by one of them, three pending
    invitations and two join requests."""
    teams = [make_team(workspace, "Growth"), make_team(workspace, "Data")]
    for n in range(size - 1):
        member = add_member(workspace, catalog.MEMBER if n % 3 else catalog.VIEWER)
        team_add_member(actor=None, team=teams[n % 2], membership=member)
    make_site(workspace, "Shop", owner=member)
    invite_create(
        actor=owner,
        workspace=workspace,
        emails=["a@x.test", "b@x.test", "c@x.test"],
        role=builtin_role(catalog.MEMBER),
        send_email=False,
    )
    for _ in range(2):
        JoinRequest.objects.create(workspace=workspace, user=UserFactory())


@pytest.mark.parametrize("size", [5, 300])
def test_owner_page_costs_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size):
    fill(workspace, owner, size)
    client.force_login(owner)
    with django_assert_num_queries(OWNER_QUERIES):
        response = client.get(url("index", workspace))
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.context["rows"]) == min(size, 50)  # one page
    assert response.context["members_page"].paginator.count == size
    assert html.count('class="inline role-form"') == min(size, 50) - 1
    assert html.count("/invites/") >= 3 * 2  # resend and revoke for each invitation
    assert len(response.context["join_requests"]) == 2


@pytest.mark.parametrize("size", [5, 300])
def test_member_page_costs_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size):
    fill(workspace, owner, size)
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    with django_assert_num_queries(MEMBER_QUERIES):
        response = client.get(url("index", workspace))
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(size + 1, 50)
