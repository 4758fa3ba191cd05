"""The check API (docs/RULES.md 5.1): GET and POST /api/v1/check, every status, and its query counts."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from permissions import catalog
from permissions.check_cache import clear_process_answers
from permissions.keys import key_create, key_revoke
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace
from workspaces.sites.services import site_grant_set

URL = "/api/v1/check"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def raw_key(workspace):
    return key_create(actor=None, workspace=workspace, name="Dashboards")[1]


@pytest.fixture
def setup(workspace, owner):
    """A site with an Editor grant for a Member, a Viewer, and an experience the Member made."""
    site = make_site(workspace, "Shop")
    member = add_member(workspace, catalog.MEMBER)
    viewer = add_member(workspace, catalog.VIEWER)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    experience = make_experience(workspace, creator=member.user)
    return {"site": site, "member": member.user, "viewer": viewer.user, "experience": experience}


def ask(client, raw, **params):
    response = client.get(URL, params, **bearer(raw))
    assert response["Content-Type"] == "application/json"
    return response


def test_url_is_the_contract():
    assert reverse("api:check") == URL


# --- 200 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, permission, where, allowed",
    [
        ("owner", "invite_members", {}, True),
        ("member", "invite_members", {}, False),
        ("member", "add_experience", {}, True),
        ("member", "change_dashboards", {"site": "shop"}, True),
        ("member", "change_site", {"site": "shop"}, False),
        ("viewer", "view_dashboards", {"site": "shop"}, True),
        ("viewer", "add_dashboards", {"site": "shop"}, False),
        ("member", "change_experience", {"experience": True}, True),
        ("viewer", "change_experience", {"experience": True}, False),
        ("viewer", "view_experience", {"experience": True}, True),
        ("owner", "delete_experience", {"experience": True}, True),
    ],
)
def test_get_answers_for_each_scope(client, raw_key, setup, owner, who, permission, where, allowed):
    person = owner if who == "owner" else setup[who]
    if where.get("experience"):
        where = {"experience": setup["experience"].pk}
    response = ask(client, raw_key, user=person.email, permission=permission, **where)
    assert response.status_code == 200
    assert response.json() == {"allowed": allowed}


def test_email_is_compared_case_insensitively(client, raw_key, owner):
    response = ask(client, raw_key, user="  OWNER@Acme.TEST ", permission="manage_owners")
    assert response.json() == {"allowed": True}


def test_outsiders_hold_nothing(client, raw_key, workspace, setup):
    elsewhere = make_workspace(UserFactory(), "Elsewhere")
    stranger = elsewhere.memberships.get().user  # owner of another workspace
    superuser = UserFactory(is_superuser=True, is_staff=True)
    questions = [
        {"permission": "view_workspace"},
        {"permission": "view_site", "site": "shop"},
        {"permission": "view_experience", "experience": setup["experience"].pk},
    ]
    for email in (stranger.email, superuser.email, "nobody@example.com"):
        for question in questions:
            response = ask(client, raw_key, user=email, **question)
            assert response.status_code == 200
            assert response.json() == {"allowed": False}, (email, question)


def test_inactive_member_holds_nothing(client, raw_key, setup):
    viewer = setup["viewer"]
    assert ask(client, raw_key, user=viewer.email, permission="view_site", site="shop").json()["allowed"]
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    assert ask(client, raw_key, user=viewer.email, permission="view_site", site="shop").json() == {"allowed": False}
    assert ask(client, raw_key, user=viewer.email, permission="view_workspace").json() == {"allowed": False}


def test_superuser_member_answers_as_their_role(client, raw_key, workspace):
    superuser = add_member(workspace, catalog.VIEWER, user=UserFactory(is_superuser=True, is_staff=True)).user
    assert ask(client, raw_key, user=superuser.email, permission="view_members").json() == {"allowed": True}
    assert ask(client, raw_key, user=superuser.email, permission="invite_members").json() == {"allowed": False}


# --- 400 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"permission": "view_workspace"}, "user"),
        ({"user": "owner@acme.test"}, "permission"),
        ({"user": "owner@acme.test", "permission": "fly_to_the_moon"}, "Unknown capability"),
        ({"user": "owner@acme.test", "permission": "view_site"}, "site capability"),
        ({"user": "owner@acme.test", "permission": "invite_members", "site": "shop"}, "workspace capability"),
        ({"user": "owner@acme.test", "permission": "view_site", "experience": "EXP"}, "experience"),
        ({"user": "owner@acme.test", "permission": "view_experience", "site": "shop"}, "experience capability"),
        ({"user": "owner@acme.test", "permission": "view_site", "site": "shop", "experience": "1"}, "not both"),
    ],
)
def test_bad_questions_get_400_with_a_message(client, raw_key, setup, params, message):
    response = ask(client, raw_key, **params)
    assert response.status_code == 400
    assert message in response.json()["error"]


# --- 401 ---------------------------------------------------------------------------------------


def test_missing_bad_or_revoked_key_gets_401(client, workspace, raw_key):
    params = {"user": "owner@acme.test", "permission": "view_workspace"}
    assert client.get(URL, params).status_code == 401
    assert client.get(URL, params, HTTP_AUTHORIZATION=f"Basic {raw_key}").status_code == 401
    assert client.get(URL, params, **bearer(raw_key + "x")).status_code == 401
    assert client.get(URL, params, **bearer("")).status_code == 401
    key, other_raw = key_create(actor=None, workspace=workspace, name="Old")
    assert client.get(URL, params, **bearer(other_raw)).status_code == 200
    key_revoke(actor=None, key=key)
    response = client.get(URL, params, **bearer(other_raw))
    assert response.status_code == 401
    assert "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")
    batch = client.post(URL, {"checks": []}, content_type="application/json", **bearer(other_raw))
    assert batch.status_code == 401


def test_no_session_or_csrf_needed(raw_key, owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = {"checks": [{"user": owner.email, "permission": "view_workspace"}]}
    response = strict.post(URL, body, content_type="application/json", **bearer(raw_key))
    assert response.status_code == 200
    assert response.json() == {"results": [True]}


def test_other_methods_get_405_json(client, raw_key):
    response = client.put(URL, "{}", content_type="application/json", **bearer(raw_key))
    assert response.status_code == 405
    assert response.json()["error"]


# --- 404 ---------------------------------------------------------------------------------------


def test_other_workspaces_site_and_experience_get_404(client, raw_key, owner, setup):
    elsewhere = make_workspace(owner, "Elsewhere")
    their_site = make_site(elsewhere, "Theirs")
    their_experience = make_experience(elsewhere, creator=owner)
    for params in (
        {"permission": "view_site", "site": their_site.slug},
        {"permission": "view_site", "site": "no-such-site"},
        {"permission": "view_experience", "experience": their_experience.pk},
        {"permission": "view_experience", "experience": 987654},
        {"permission": "view_experience", "experience": 10**30},
        {"permission": "view_experience", "experience": -1},
    ):
        response = ask(client, raw_key, user=owner.email, **params)
        assert response.status_code == 404, params
        assert "error" in response.json()


def test_key_answers_only_for_its_own_workspace(client, owner, setup):
    elsewhere = make_workspace(owner, "Elsewhere")
    make_site(elsewhere, "Shop")  # same slug, other workspace
    other_raw = key_create(actor=None, workspace=elsewhere, name="Theirs")[1]
    member = setup["member"]
    # The member holds change_dashboards on Acme's shop, nothing in Elsewhere.
    response = ask(client, other_raw, user=member.email, permission="change_dashboards", site="shop")
    assert response.json() == {"allowed": False}


# --- batch -------------------------------------------------------------------------------------


def post(client, raw, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(URL, data, content_type="application/json", **bearer(raw))
    assert response["Content-Type"] == "application/json"
    return response


def test_batch_keeps_order_with_mixed_results(client, raw_key, owner, setup):
    member, viewer, experience = setup["member"], setup["viewer"], setup["experience"]
    checks = [
        {"user": owner.email, "permission": "delete_workspace"},
        {"user": member.email, "permission": "delete_workspace"},
        {"user": member.email, "permission": "run_experiments", "site": "shop"},
        {"user": viewer.email, "permission": "run_experiments", "site": "shop"},
        {"user": "nobody@example.com", "permission": "view_site", "site": "shop"},
        {"user": viewer.email.upper(), "permission": "view_experience_analytics", "experience": experience.pk},
        {"user": viewer.email, "permission": "publish_experience", "experience": str(experience.pk)},
        {"user": member.email, "permission": "publish_experience", "experience": experience.pk},
    ]
    response = post(client, raw_key, {"checks": checks})
    assert response.status_code == 200
    assert response.json() == {"results": [True, False, True, False, False, True, False, True]}


def test_empty_batch(client, raw_key):
    assert post(client, raw_key, {"checks": []}).json() == {"results": []}


def test_batch_of_1000_is_allowed_and_1001_refused(client, raw_key, owner):
    check = {"user": owner.email, "permission": "view_workspace"}
    response = post(client, raw_key, {"checks": [check] * 1000})
    assert response.status_code == 200
    assert response.json()["results"] == [True] * 1000
    response = post(client, raw_key, {"checks": [check] * 1001})
    assert response.status_code == 400
    assert "1000" in response.json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("not json", "JSON"),
        ("", "JSON"),
        ([], "checks"),
        ({"check": []}, "checks"),
        ({"checks": {"user": "a@b.c"}}, "checks"),
        ({"checks": [{"user": "owner@acme.test", "permission": "view_workspace"}, "oops"]}, "checks[1]"),
        ({"checks": [{"user": "owner@acme.test", "permission": "view_workspace"}, {"user": "x@y.z"}]}, "checks[1]"),
        ({"checks": [{"user": "owner@acme.test", "permission": "nope"}]}, "checks[0]: Unknown capability"),
        ({"checks": [{"user": "a@b.c", "permission": "view_site"}, {"user": 3, "permission": "view_site"}]}, "[0]"),
        ({"checks": [{"user": "a@b.c", "permission": "view_site", "site": 5}]}, "checks[0]"),
        ({"checks": [{"user": "a@b.c", "permission": "view_experience", "experience": True}]}, "checks[0]"),
        ({"checks": [{"user": "a@b.c", "permission": "view_experience", "experience": 1.5}]}, "numeric id"),
    ],
)
def test_malformed_batch_gets_400_naming_the_item(client, raw_key, setup, body, message):
    response = post(client, raw_key, body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_batch_item_naming_another_workspaces_object_gets_404_with_its_index(client, raw_key, owner, setup):
    elsewhere = make_workspace(owner, "Elsewhere")
    their_site = make_site(elsewhere, "Theirs")
    their_experience = make_experience(elsewhere, creator=owner)
    fine = {"user": owner.email, "permission": "view_site", "site": "shop"}
    for bad, index in (
        ({"user": owner.email, "permission": "view_site", "site": their_site.slug}, 2),
        ({"user": owner.email, "permission": "view_experience", "experience": their_experience.pk}, 1),
    ):
        checks = [fine, fine, fine]
        checks[index] = bad
        response = post(client, raw_key, {"checks": checks})
        assert response.status_code == 404
        assert response.json()["error"].startswith(f"checks[{index}]:")


# --- query counts ------------------------------------------------------------------------------


def _people_and_places(workspace, people: int, sites: int):
    """``people`` Editors of every one of ``sites`` sites, and one experience per person."""
    members = [add_member(workspace, catalog.MEMBER) for _ in range(people)]
    places = [make_site(workspace, f"Site {n}") for n in range(sites)]
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    for site in places:
        for membership in members:
            site_grant_set(actor=None, site=site, role=editor, membership=membership)
    experiences = [make_experience(workspace, creator=m.user, title=f"E{n}") for n, m in enumerate(members)]
    return [m.user for m in members], places, experiences


def _batch(size: int, people, places, experiences) -> list[dict]:
    checks = []
    for n in range(size):
        person = people[n % len(people)]
        kind = n % 3
        if kind == 0:
            checks.append({"user": person.email, "permission": "add_experience"})
        elif kind == 1:
            site = places[n % len(places)]
            checks.append({"user": person.email, "permission": "change_dashboards", "site": site.slug})
        else:
            experience = experiences[(7 * n + 1) % len(experiences)]
            checks.append({"user": person.email, "permission": "change_experience", "experience": experience.pk})
    return checks


BATCH_QUERIES = 8  # key, members, sites, experiences, one for each of the three scopes, the day's count
SINGLE_QUERIES = 5  # key, members, the site, one for the permissions, the day's count


@pytest.mark.parametrize("size, people, sites", [(10, 2, 2), (1000, 12, 8)])
def test_batch_query_count_does_not_grow(client, raw_key, workspace, django_assert_num_queries, size, people, sites):
    found = _people_and_places(workspace, people, sites)
    checks = _batch(size, *found)
    post(client, raw_key, {"checks": checks[:1]})  # first use records last_used_at
    with django_assert_num_queries(BATCH_QUERIES):
        response = post(client, raw_key, {"checks": checks})
    results = response.json()["results"]
    assert len(results) == size
    # Everyone holds add_experience and change_dashboards; each collaborates on their own experience only.
    expected = [c.get("experience") in (None, _own_experience(c, *found)) for c in checks]
    assert results == expected
    assert True in results and False in results


def _own_experience(check, people, places, experiences):
    index = [p.email for p in people].index(check["user"])
    return experiences[index].pk


@pytest.mark.parametrize("people, sites", [(1, 1), (6, 5)])
def test_single_check_query_count(client, raw_key, workspace, django_assert_num_queries, people, sites):
    members, places, _ = _people_and_places(workspace, people, sites)
    params = {"user": members[-1].email, "permission": "change_dashboards", "site": places[-1].slug}
    ask(client, raw_key, **params)
    cache.clear()  # the answer, not yet cached (tests/test_check_cache.py counts a cached one)
    clear_process_answers()
    with django_assert_num_queries(SINGLE_QUERIES):
        response = ask(client, raw_key, **params)
    assert response.json() == {"allowed": True}
