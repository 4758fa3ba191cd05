"""Query counts that must not grow with the size of a workspace.

Large worlds are written in bulk and then materialised by ``sync_workspace`` (the same code the
``sync_permissions`` command runs), so the guardian rows are exactly what the services would write.
"""

import pytest

from permissions import catalog, materialize
from permissions.policy import Access
from permissions.roles import builtin_role
from tests.factories import add_member
from workspaces.models import Collaborator, Experience, Membership, Site, SiteGrant
from workspaces.people.services import member_change_role, member_remove


def bulk_world(
    workspace, size: int, grantee: Membership, role_key: str = catalog.EDITOR, experiences: bool = True
) -> list[Site]:
    """``size`` sites, each with a grant to ``grantee`` and (with ``experiences``) an experience it
    collaborates on."""
    owner = Membership.objects.filter(workspace=workspace, role__key=catalog.OWNER).first()
    sites = Site.objects.bulk_create(
        [Site(workspace=workspace, name=f"Site {n}", slug=f"site-{n}", owner=owner) for n in range(size)]
    )
    role = builtin_role(role_key, catalog.SITE)
    SiteGrant.objects.bulk_create([SiteGrant(site=site, membership=grantee, role=role) for site in sites])
    if experiences:
        made = Experience.objects.bulk_create(
            [Experience(workspace=workspace, site=site, title=f"Experience {site.pk}") for site in sites]
        )
        Collaborator.objects.bulk_create([Collaborator(experience=e, membership=grantee) for e in made])
    materialize.sync_workspace(workspace, apply=True)
    return sites


@pytest.fixture(params=[5, 500], ids=["5-sites", "500-sites"])
def size(request):
    return request.param


def test_member_change_role_does_not_grow_with_sites(workspace, owner, size, django_assert_num_queries):
    target = add_member(workspace, catalog.MEMBER)
    add_member(workspace, catalog.VIEWER)  # the Viewer role's group exists, as in any real workspace
    sites = bulk_world(workspace, size, target)
    assert Access(target.user).has("add_experience", workspace)
    # + 2 of the webhooks outbox: the event written beside the audit event, the endpoints read
    with django_assert_num_queries(12):
        member_change_role(actor=owner, membership=target, role=builtin_role(catalog.VIEWER))
    fresh = Access(target.user)
    assert not fresh.has("add_experience", workspace)  # the Member's capability is gone
    assert fresh.has("change_dashboards", sites[-1])  # the grants stay


def test_member_remove_does_not_grow_with_sites(workspace, owner, size, django_assert_num_queries):
    target = add_member(workspace, catalog.MEMBER)
    sites = bulk_world(workspace, size, target)
    assert Access(target.user).has("view_site", sites[-1])
    # 22: the member's account is locked before the workspace (the one lock order, kernel.locks).
    # + 2 of the webhooks outbox: the event written beside the audit event, the endpoints read
    with django_assert_num_queries(24):
        member_remove(actor=owner, membership=target)
    assert not SiteGrant.objects.filter(membership_id=target.pk).exists()
    assert not Collaborator.objects.filter(membership_id=target.pk).exists()
    assert not Access(target.user).filter("view_site", Site.objects.all()).exists()


@pytest.mark.parametrize("count", [20, 2000])
def test_which_sites_may_i_see_is_one_query(workspace, count, django_assert_num_queries):
    person = add_member(workspace, catalog.MEMBER)
    bulk_world(workspace, count, person, role_key=catalog.SITE_VIEWER, experiences=False)
    Site.objects.create(workspace=workspace, name="Not granted", slug="not-granted", owner=person)
    access = Access(person.user)
    with django_assert_num_queries(1):
        visible = list(access.filter("view_site", Site.objects.filter(workspace=workspace)))
    assert len(visible) == count
    assert "not-granted" not in {site.slug for site in visible}


@pytest.mark.parametrize("members", [5, 300])
def test_a_role_change_through_the_browser_costs_fourteen_queries(
    client, workspace, owner, members, django_assert_num_queries
):
    """Session, user, membership with workspace and role, the owner's workspace capabilities, the
    member named in the URL; then the change: savepoint, update, the two role groups, leave one,
    join the other, the audit event, release. The role comes from the catalog's cache."""
    target = add_member(workspace, catalog.MEMBER)
    for _ in range(members):
        add_member(workspace, catalog.MEMBER)
    bulk_world(workspace, members, target)
    client.force_login(owner)
    url = f"/w/{workspace.slug}/people/members/{target.pk}/role/"
    with django_assert_num_queries(14):  # 12, and the webhooks outbox's event and endpoints
        response = client.post(url, {"role": builtin_role(catalog.VIEWER).pk})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role.key == catalog.VIEWER
    assert Access(target.user).has("view_all_analytics", workspace)
