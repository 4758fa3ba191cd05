"""GET /api/v1/members/<email>/permissions (docs/RULES.md 5.1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def url(email: str) -> str:
    return f"/api/v1/members/{email}/permissions"


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Dashboards")[1]


def test_url_is_the_contract():
    assert reverse("api:member_permissions", args=["a@b.c"]) == url("a@b.c")


def test_owner_holds_everything_everywhere(client, raw_key, workspace, owner):
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    experience = make_experience(workspace, creator=owner)
    response = client.get(url(owner.email), **bearer(raw_key))
    assert response.status_code == 200
    assert response.json() == {
        "workspace": sorted(catalog.codenames(catalog.WORKSPACE)),
        "sites": {
            shop.slug: sorted(catalog.codenames(catalog.SITE)),
            blog.slug: sorted(catalog.codenames(catalog.SITE)),
        },
        "experiences": {str(experience.pk): sorted(catalog.codenames(catalog.EXPERIENCE))},
    }


def test_member_lists_only_what_they_hold(client, raw_key, workspace, owner):
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    make_site(workspace, "Docs")
    member = add_member(workspace, catalog.MEMBER)
    site_grant_set(actor=None, site=shop, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=member)
    team = make_team(workspace, "Growth")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=blog, role=builtin_role(catalog.EDITOR, catalog.SITE), team=team)
    theirs = make_experience(workspace, creator=member.user, title="Theirs")
    not_theirs = make_experience(workspace, creator=owner, title="Not theirs")
    response = client.get(url(member.user.email.upper()), **bearer(raw_key))
    assert response.status_code == 200
    body = response.json()
    member_role = next(r for r in catalog.BUILTIN_WORKSPACE_ROLES if r.key == catalog.MEMBER)
    assert body["workspace"] == sorted(member_role.capabilities)
    site_viewer = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.SITE_VIEWER)
    editor = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.EDITOR)
    assert body["sites"] == {"shop": sorted(site_viewer.capabilities), "blog": sorted(editor.capabilities)}
    # A Member sees every experience and its analytics (view_all_analytics), and changes only theirs.
    assert body["experiences"] == {
        str(theirs.pk): sorted(catalog.COLLABORATOR_CAPABILITIES),
        str(not_theirs.pk): sorted(catalog.EXPERIENCE_CAPABILITIES_FROM_WORKSPACE["view_all_analytics"]),
    }


def test_billing_admin_has_no_sites_or_experiences(client, raw_key, workspace, owner):
    make_site(workspace, "Shop")
    make_experience(workspace, creator=owner)
    billing = add_member(workspace, catalog.BILLING_ADMIN).user
    body = client.get(url(billing.email), **bearer(raw_key)).json()
    assert body == {
        "workspace": ["manage_billing", "view_workspace", "view_workspace_settings"],
        "sites": {},
        "experiences": {},
    }


def test_not_a_member_gets_404(client, raw_key, workspace):
    outsider = make_workspace(UserFactory(), "Elsewhere").memberships.get().user
    superuser = UserFactory(is_superuser=True, is_staff=True)
    inactive = add_member(workspace, catalog.ADMIN).user
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for email in (outsider.email, superuser.email, inactive.email, "nobody@example.com"):
        response = client.get(url(email), **bearer(raw_key))
        assert response.status_code == 404, email
        assert response.json()["error"]


def test_needs_a_key(client, raw_key, owner):
    assert client.get(url(owner.email)).status_code == 401
    assert client.get(url(owner.email), **bearer("pk_guess")).status_code == 401
    assert client.post(url(owner.email), **bearer(raw_key)).status_code == 405


# key, member, workspace permissions, site ids, site permissions, experience ids and permissions
MEMBER_QUERIES = 7


@pytest.mark.parametrize("sites", [2, 12])
def test_query_count_does_not_grow_with_sites(client, raw_key, workspace, owner, django_assert_num_queries, sites):
    viewer = add_member(workspace, catalog.VIEWER).user
    for n in range(sites):
        make_site(workspace, f"Site {n}")
        make_experience(workspace, creator=owner, title=f"E{n}")
    client.get(url(viewer.email), **bearer(raw_key))  # first use records last_used_at
    with django_assert_num_queries(MEMBER_QUERIES):
        body = client.get(url(viewer.email), **bearer(raw_key)).json()
    assert len(body["sites"]) == sites
    assert len(body["experiences"]) == sites
