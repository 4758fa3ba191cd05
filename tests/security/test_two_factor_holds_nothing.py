"""A member who must set up two-factor authentication holds nothing until they have.

The attack: in a workspace that requires two-factor authentication, a member without a device is
sent to set-up on the workspace's pages, yet read the same restricted experience on its public
page (/p/<id>/), and the check API answered "allowed" for them. Every reader asks the policy, so
the policy decides: such a member holds no capability anywhere in that workspace (pages, public
pages, the check API single and batch, the member permissions API, the services) until they
confirm an authenticator app; then everything they had is back.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions import catalog
from permissions.keys import key_create
from permissions.policy import Access, load_permissions
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace, viewer_group_member_add
from tests.twofactor_factories import enable_two_factor
from twofactor.services import two_factor_requirement_set
from workspaces.experiences.services import experience_publish, experience_update
from workspaces.models import Experience, Site
from workspaces.sites.services import site_update
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = pytest.mark.django_db

SECRET = "The launch date is the ninth."
CHECK = "/api/v1/check"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def world(workspace, owner):
    """Acme requires two-factor; its owner has it; a Viewer (view_experience everywhere) and an
    Admin have not set it up. A restricted published experience, and a site."""
    enable_two_factor(owner)
    site = make_site(workspace, "Shop")
    experience = make_experience(workspace, creator=owner, title="Launch")
    experience_update(actor=owner, experience=experience, content=SECRET)
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_member_add(actor=owner, group=group, email="press@example.com")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    viewer = add_member(workspace, catalog.VIEWER).user
    admin = add_member(workspace, catalog.ADMIN).user
    two_factor_requirement_set(actor=owner, workspace=workspace, required=True)
    raw_key = key_create(actor=None, workspace=workspace, name="Dashboards")[1]
    return {"site": site, "experience": experience, "viewer": viewer, "admin": admin, "key": raw_key}


def public_page(experience) -> str:
    return reverse("public:experience", args=[experience.public_token])


def check(client, raw_key, email, permission, **where) -> bool:
    response = client.get(CHECK, {"user": email, "permission": permission, **where}, **bearer(raw_key))
    assert response.status_code == 200
    return response.json()["allowed"]


def batch(client, raw_key, checks) -> list[bool]:
    response = client.post(CHECK, json.dumps({"checks": checks}), content_type="application/json", **bearer(raw_key))
    assert response.status_code == 200
    return response.json()["results"]


def member_permissions(client, raw_key, email) -> dict:
    response = client.get(f"/api/v1/members/{email}/permissions", **bearer(raw_key))
    assert response.status_code == 200
    return response.json()


def questions(world, email) -> list[dict]:
    return [
        {"user": email, "permission": "view_experience", "experience": world["experience"].pk},
        {"user": email, "permission": "view_dashboards", "site": world["site"].slug},
        {"user": email, "permission": "view_all_analytics"},
    ]


def test_the_public_page_does_not_show_the_restricted_experience_before_set_up(client, world):
    viewer = world["viewer"]
    client.force_login(viewer)
    # The workspace's own page sends them to set-up ...
    workspace_page = reverse(
        "workspaces:experience_detail", args=[world["experience"].workspace.slug, world["experience"].pk]
    )
    assert "/accounts/two-factor/" in client.get(workspace_page)["Location"]
    # ... and the public page no longer shows them what the workspace page withholds.
    response = client.get(public_page(world["experience"]))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()

    enable_two_factor(viewer)  # set up in this very session: the page shows it again

    assert SECRET in client.get(public_page(world["experience"])).content.decode()


def test_the_check_api_answers_no_before_set_up_single_and_batch(client, world, owner):
    viewer, raw_key = world["viewer"], world["key"]
    assert not check(client, raw_key, viewer.email, "view_experience", experience=world["experience"].pk)
    assert not check(client, raw_key, viewer.email, "view_dashboards", site=world["site"].slug)
    assert not check(client, raw_key, viewer.email, "view_all_analytics")
    # In the same batch, the owner (two-factor on) keeps every answer: only the one person is held.
    assert (
        batch(client, raw_key, questions(world, viewer.email) + questions(world, owner.email))
        == [False] * 3 + [True] * 3
    )

    enable_two_factor(viewer)

    assert check(client, raw_key, viewer.email, "view_experience", experience=world["experience"].pk)
    assert batch(client, raw_key, questions(world, viewer.email)) == [True] * 3


def test_the_member_permissions_api_lists_nothing_before_set_up(client, world):
    viewer, raw_key = world["viewer"], world["key"]
    assert member_permissions(client, raw_key, viewer.email) == {
        "workspace": [],
        "sites": {},
        "experiences": {},
        "next": None,
    }

    enable_two_factor(viewer)

    after = member_permissions(client, raw_key, viewer.email)
    assert "view_all_analytics" in after["workspace"]
    assert "view_experience" in after["experiences"][str(world["experience"].pk)]
    assert "view_dashboards" in after["sites"][world["site"].slug]


def test_services_refuse_and_lists_are_empty_before_set_up(world):
    admin = world["admin"]
    with pytest.raises(PermissionDenied):
        site_update(actor=admin, site=world["site"], name="Renamed")
    access = Access(admin)
    assert access.perms(world["site"]) == frozenset()
    assert not access.filter("view_site", Site.objects.all()).exists()
    assert not access.filter("view_experience", Experience.objects.all()).exists()

    enable_two_factor(admin)

    site_update(actor=admin, site=world["site"], name="Renamed")
    assert Access(admin).filter("view_site", Site.objects.all()).exists()


def test_only_the_workspace_that_requires_it_is_held(world, owner):
    """The same person keeps everything in a workspace that does not require two-factor."""
    viewer = world["viewer"]
    elsewhere = make_workspace(UserFactory(), "Elsewhere")
    add_member(elsewhere, catalog.VIEWER, user=viewer)
    other_site = make_site(elsewhere, "Blog")
    held = load_permissions([viewer.pk], catalog.SITE, [world["site"].pk, other_site.pk])
    assert (viewer.pk, world["site"].pk) not in held
    assert "view_dashboards" in held[(viewer.pk, other_site.pk)]


def test_the_check_costs_the_same_number_of_queries_at_any_size(client, world):
    """The rule is a subquery of the permission queries, not a query per object or person."""
    raw_key, workspace = world["key"], world["experience"].workspace
    experience_ids = [make_experience(workspace, title=f"E{n}").pk for n in range(60)]
    checks = [
        {"user": world["viewer"].email, "permission": "view_experience", "experience": pk} for pk in experience_ids
    ]
    batch(client, raw_key, checks[:1])  # warm up what is cached per process
    with CaptureQueriesContext(connection) as few:
        assert batch(client, raw_key, checks[:2]) == [False] * 2
    with CaptureQueriesContext(connection) as many:
        assert batch(client, raw_key, checks) == [False] * 60
    assert len(many.captured_queries) == len(few.captured_queries)
