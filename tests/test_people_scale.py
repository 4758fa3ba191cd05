"""The people page at scale: search, filters, sorting and pages in the URL, the last sign-in and
two-factor columns, bounded successor and new-owner fields, paged invitations and join requests, a
cost and a size that do not grow with the members, and hostile parameters that never break it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from tests.twofactor_factories import enable_two_factor
from workspaces.invites.services import invite_create
from workspaces.models import JoinRequest, Membership, Site
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db


def url(name, workspace, *args):
    return reverse(f"people:{name}", args=[workspace.slug, *args])


def get(client, user, workspace, params=None):
    client.force_login(user)
    return client.get(url("index", workspace), params or {})


def names(response) -> list[str]:
    return [row.membership.user.display_name for row in response.context["rows"]]


def said(response) -> str:
    return " | ".join(str(m) for m in get_messages(response.wsgi_request))


def person(workspace, name, email, role=catalog.MEMBER):
    return add_member(workspace, role, user=UserFactory(full_name=name, email=email))


@pytest.fixture
def crowd(workspace):
    """Four members with known names, addresses, roles, a team, two-factor and sign-ins."""
    ada = person(workspace, "Ada Lovelace", "ada@engines.test", catalog.ADMIN)
    alan = person(workspace, "Alan Turing", "alan@bletchley.test")
    grace = person(workspace, "Grace Hopper", "grace@navy.test", catalog.VIEWER)
    linus = person(workspace, "Linus Adams", "linus@kernel.test")
    team = make_team(workspace, "Compilers")
    team_add_member(actor=None, team=team, membership=grace)
    enable_two_factor(alan.user)
    now = timezone.now()
    User.objects.filter(pk=ada.user_id).update(last_login=now - datetime.timedelta(days=3))
    User.objects.filter(pk=grace.user_id).update(last_login=now - datetime.timedelta(days=1))
    Membership.objects.filter(pk=linus.pk).update(joined_at=now - datetime.timedelta(days=400))
    return {"ada": ada, "alan": alan, "grace": grace, "linus": linus, "team": team}


# --- search, filters, sorting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ada", {"Ada Lovelace", "Linus Adams"}),  # a prefix of one name, inside another
        ("ALAN", {"Alan Turing"}),  # any case
        ("navy.test", {"Grace Hopper"}),  # part of the address
        ("  hopper ", {"Grace Hopper"}),  # spaces around are dropped
        ("nobody", set()),
    ],
)
def test_search_by_name_or_address(client, workspace, owner, crowd, q, expected):
    response = get(client, owner, workspace, {"q": q})
    assert response.status_code == 200
    assert set(names(response)) == expected
    if not expected:
        assert "No member matches this search." in response.content.decode()


def test_filters_by_role_team_two_factor_and_joined_since(client, workspace, owner, crowd):
    admin = builtin_role(catalog.ADMIN)
    assert names(get(client, owner, workspace, {"role": admin.pk})) == ["Ada Lovelace"]
    assert names(get(client, owner, workspace, {"team": crowd["team"].pk})) == ["Grace Hopper"]
    assert names(get(client, owner, workspace, {"two_factor": "yes"})) == ["Alan Turing"]
    assert "Alan Turing" not in names(get(client, owner, workspace, {"two_factor": "no"}))
    since = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    joined = names(get(client, owner, workspace, {"joined_since": since}))
    assert "Linus Adams" not in joined and "Ada Lovelace" in joined
    both = get(client, owner, workspace, {"q": "a", "role": builtin_role(catalog.MEMBER).pk, "two_factor": "no"})
    assert names(both) == ["Linus Adams"]


def test_sorting_by_name_email_joined_and_last_sign_in(client, workspace, owner, crowd):
    assert names(get(client, owner, workspace, {"sort": "name"})) == [
        "Ada Lovelace",
        "Alan Turing",
        "Grace Hopper",
        "Linus Adams",
        "Olivia Owner",
    ]
    assert names(get(client, owner, workspace, {"sort": "-email"}))[0] == "Olivia Owner"  # owner@acme.test
    assert names(get(client, owner, workspace, {"sort": "joined"}))[0] == "Linus Adams"
    latest = names(get(client, owner, workspace, {"sort": "-last_sign_in"}))
    assert latest.index("Grace Hopper") < latest.index("Ada Lovelace")


@pytest.mark.parametrize("sort", ["last_sign_in", "-last_sign_in"])
def test_those_who_never_signed_in_come_last_in_either_order(client, workspace, owner, crowd, sort):
    User.objects.filter(pk=owner.pk).update(last_login=timezone.now())
    order = names(get(client, owner, workspace, {"sort": sort}))
    signed_in = {"Ada Lovelace", "Grace Hopper", "Olivia Owner"}
    assert set(order[:3]) == signed_in and set(order[3:]) == {"Alan Turing", "Linus Adams"}


def test_equal_names_keep_one_order_across_pages(client, workspace, owner):
    twins = [person(workspace, "Sam Same", f"sam{n:03d}@x.test") for n in range(60)]
    seen = []
    for number in (1, 2):
        response = get(client, owner, workspace, {"sort": "name", "q": "Sam Same", "page": number})
        seen += [row.membership.pk for row in response.context["rows"]]
    assert sorted(seen) == sorted(m.pk for m in twins)  # nobody twice, nobody missing


def test_columns_show_last_sign_in_and_two_factor(client, workspace, owner, crowd):
    response = get(client, owner, workspace, {"q": "a"})
    rows = {row.membership.user.full_name: row.membership for row in response.context["rows"]}
    assert rows["Alan Turing"].has_two_factor and not rows["Ada Lovelace"].has_two_factor
    html = response.content.decode()
    assert '<th scope="col">Last sign-in</th>' in html and '<th scope="col">Two-factor</th>' in html
    assert ">set up</td>" in html and "not set up" in html and "never" in html


def test_filter_state_is_in_the_url_and_kept_by_the_page_links(client, workspace, owner):
    for n in range(55):
        person(workspace, f"Zed {n:02d}", f"zed{n:02d}@x.test")
    response = get(client, owner, workspace, {"q": "zed", "sort": "email"})
    html = response.content.decode()
    assert 'method="get"' in html and 'value="zed"' in html
    assert "?q=zed&amp;sort=email&amp;page=2" in html
    second = get(client, owner, workspace, {"q": "zed", "sort": "email", "page": 2})
    assert names(second) == [f"Zed {n:02d}" for n in range(50, 55)]


def test_invite_link_sits_above_the_list(client, workspace, owner, crowd):
    html = get(client, owner, workspace).content.decode()
    assert html.index('href="#invite-heading">Invite people</a>') < html.index('id="members-heading"')


# --- hostile parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"page": "٣"},  # Arabic-Indic digit three
        {"page": "9" * 5000},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"page": "1e3"},
        {"page": "\x00"},
        {"ipage": "abc", "rpage": "0"},
        {"sort": "user__password"},
        {"sort": "\x00"},
        {"q": "ada\x00"},
        {"q": "\x00"},
        {"q": "é" * 5000},
        {"role": "owner"},
        {"role": "99999999999999999999999"},
        {"team": "\x00"},
        {"two_factor": "maybe"},
        {"joined_since": "99999-99-99"},
        {"joined_since": "0001-01-01"},
        {"joined_since": "9999-12-31"},
    ],
)
def test_hostile_parameters_never_break_the_page(client, workspace, owner, crowd, params):
    response = get(client, owner, workspace, params)
    assert response.status_code == 200


def test_another_workspaces_role_or_team_filters_to_nobody_of_theirs(client, workspace, owner, crowd):
    other = make_workspace(UserFactory(), "Other")
    their_team = make_team(other, "Theirs")
    team_add_member(actor=None, team=their_team, membership=add_member(other, catalog.MEMBER))
    response = get(client, owner, workspace, {"team": their_team.pk})
    assert names(response) == [n for n in names(get(client, owner, workspace))]  # not one of ours: ignored


def test_refused_roles_and_other_workspaces(client, workspace, crowd):
    billing = add_member(workspace, catalog.BILLING_ADMIN)
    assert get(client, billing.user, workspace, {"q": "ada"}).status_code == 403
    other = make_workspace(UserFactory(), "Other")
    assert get(client, crowd["ada"].user, other, {"q": "a", "page": "2"}).status_code == 404


# --- successors and new owners by address ---------------------------------------------------------


def test_removing_a_site_owner_names_the_successor_by_address(client, workspace, owner, crowd):
    site = make_site(workspace, "Shop", owner=crowd["alan"])
    client.force_login(owner)
    response = client.post(
        url("remove", workspace, crowd["alan"].pk), {"confirm": "yes", "successor_email": "GRACE@navy.test"}
    )
    assert "is removed" in said(response)
    assert Site.objects.get(pk=site.pk).owner_id == crowd["grace"].pk


@pytest.mark.parametrize("address", ["stranger@else.test", "alan@bletchley.test", "", "x\x00@y.test"])
def test_a_successor_who_is_no_other_member_is_refused(client, workspace, owner, crowd, address):
    other = make_workspace(UserFactory(), "Other")
    add_member(other, catalog.MEMBER, user=UserFactory(email="stranger@else.test"))
    make_site(workspace, "Shop", owner=crowd["alan"])
    client.force_login(owner)
    response = client.post(url("remove", workspace, crowd["alan"].pk), {"confirm": "yes", "successor_email": address})
    assert response.status_code == 302
    assert Membership.objects.filter(pk=crowd["alan"].pk).exists()
    assert said(response)


def test_leaving_site_owner_names_the_successor_by_address(client, workspace, crowd):
    site = make_site(workspace, "Shop", owner=crowd["linus"])
    client.force_login(crowd["linus"].user)
    client.post(url("leave", workspace), {"successor_email": "ada@engines.test", "confirm": "yes"})
    assert not Membership.objects.filter(pk=crowd["linus"].pk).exists()
    assert Site.objects.get(pk=site.pk).owner_id == crowd["ada"].pk


def test_transfer_names_the_new_owner_by_address(client, workspace, owner, crowd):
    client.force_login(owner)
    response = client.post(url("transfer", workspace), {"confirm": "yes", "to_email": "stranger@else.test"})
    assert "No other member of this workspace has that e-mail address." in said(response)
    response = client.post(url("transfer", workspace), {"confirm": "yes", "to_email": "owner@acme.test"})  # yourself
    assert "No other member" in said(response)
    client.post(
        url("transfer", workspace),
        {"confirm": "yes", "to_email": "grace@navy.test", "confirm_phrase": "grace@navy.test"},
    )
    assert Membership.objects.get(pk=crowd["grace"].pk).role.key == catalog.OWNER


# --- pending invitations and join requests are paged ----------------------------------------------


def test_invitations_and_join_requests_have_their_own_pages(client, workspace, owner):
    emails = [f"inv{n:03d}@x.test" for n in range(55)]
    invite_create(actor=owner, workspace=workspace, emails=emails, role=builtin_role(catalog.MEMBER), send_email=False)
    for n in range(53):
        JoinRequest.objects.create(workspace=workspace, user=UserFactory(email=f"ask{n:03d}@corp.test"))
    first = get(client, owner, workspace)
    assert len(first.context["invites"]) == 50 and len(first.context["join_requests"]) == 50
    html = first.content.decode()
    assert "ipage=2" in html and "rpage=2" in html
    later = get(client, owner, workspace, {"ipage": 2, "rpage": 2})
    assert [i.email for i in later.context["invites"]] == emails[50:]
    assert len(later.context["join_requests"]) == 3


# --- cost and size --------------------------------------------------------------------------------

OWNER_QUERIES = (
    14  # at most 15 (README: people at scale); as tests/test_team_page.py counts them, for a search or a filter too
)


def crowd_of(workspace, owner, size: int):
    """``size`` members in all with names and addresses of one length, a team, a site owner with
    two-factor, pending invitations and join requests."""
    team = make_team(workspace, "Growth")
    members = [person(workspace, f"Person {n:05d}", f"p{n:05d}@x.test") for n in range(size - 1)]
    for member in members[1::2]:
        team_add_member(actor=None, team=team, membership=member)
    make_site(workspace, "Shop", owner=members[0])
    enable_two_factor(members[0].user)
    invite_create(
        actor=owner, workspace=workspace, emails=["a@x.test"], role=builtin_role(catalog.MEMBER), send_email=False
    )
    JoinRequest.objects.create(workspace=workspace, user=UserFactory())
    return team


@pytest.mark.parametrize("size", [5, 300])
@pytest.mark.parametrize("kind", ["page", "search", "filtered"])
def test_cost_is_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size, kind):
    team = crowd_of(workspace, owner, size)
    params = {
        "page": {},
        "search": {"q": "person 0"},
        "filtered": {"team": team.pk, "two_factor": "no", "role": builtin_role(catalog.MEMBER).pk, "sort": "-name"},
    }[kind]
    client.force_login(owner)
    with django_assert_num_queries(OWNER_QUERIES):
        response = client.get(url("index", workspace), params)
    assert response.status_code == 200
    assert response.context["rows"]


@pytest.mark.parametrize("params", [{}, {"q": "person"}])
def test_html_does_not_grow_beyond_a_page(client, workspace, owner, params):
    crowd_of(workspace, owner, 60)
    small = get(client, owner, workspace, params).content.decode()
    for n in range(60, 300):
        person(workspace, f"Person {n:05d}", f"p{n:05d}@x.test")
    large = get(client, owner, workspace, params).content.decode()
    assert abs(len(large) - len(small)) < 100  # the counts and page numbers have more digits
    # no list of every member anywhere: one successor field, one new-owner field
    assert large.count("<option") == small.count("<option")
    assert 'name="successor_email"' in large and 'name="to_email"' in large


def test_custom_roles_cost_one_query_and_are_offered_within_ones_own(
    client, workspace, owner, django_assert_num_queries
):
    """Custom roles' capabilities (both scopes) are read in one query; the role picker offers only
    the roles the person may give (rule 3), as with the capabilities prefetched."""
    crowd_of(workspace, owner, 5)
    wide = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Wide",
        capabilities={"view_members", "manage_billing"},
    )
    desk_role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Role desk",
        capabilities={"view_members", "change_member_roles"},
    )
    role_save(actor=None, workspace=workspace, scope=catalog.SITE, name="Perf", capabilities={"view_performance"})
    client.force_login(owner)
    client.get(url("index", workspace))  # codenames by id are read once per process
    with django_assert_num_queries(OWNER_QUERIES + 1):
        response = client.get(url("index", workspace))
    owners = response.content.decode()
    assert f'<option value="{wide.pk}"' in owners and "Perf" in owners  # the owner may give every role
    desk = add_member(workspace, desk_role)
    target = add_member(workspace, catalog.VIEWER)
    response = get(client, desk.user, workspace, {"q": target.user.email})
    [row] = response.context["rows"]
    offered = {role.name for role in row.role_options}
    assert "Role desk" in offered and "Wide" not in offered and wide.pk not in {r.pk for r in row.role_options}
    assert f'<option value="{wide.pk}"' not in response.content.decode().split('class="inline role-form"')[1]
