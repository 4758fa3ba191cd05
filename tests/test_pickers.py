"""The member and site pickers (kernel.pickers, workspaces.pickers): a search box that works as a
plain GET form, at most 20 matches, the same list as a fragment for static/js/picker.js, and a POST
that looks the choice up again in the URL's workspace. Used by the site access page (member or team,
site owner), the collaborators page and the invitation form's sites."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from workspaces.experiences.services import collaborator_add
from workspaces.models import Collaborator, Experience, Invite, InviteSiteGrant, SiteGrant
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = ["\x00", "ada\x00", "x" * 10_000, "é" * 10_000, "%_\\'\"<script>", " "]


def person(workspace, name, email, role=catalog.MEMBER):
    return add_member(workspace, role, user=UserFactory(full_name=name, email=email))


def access_url(site, **params) -> str:
    return reverse("site_access:index", args=[site.workspace.slug, site.slug])


def values(picker) -> list[str]:
    return [choice.value for choice in picker.choices]


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def people(workspace):
    return {
        "ada": person(workspace, "Ada Lovelace", "ada@engines.test", catalog.ADMIN),
        "alan": person(workspace, "Alan Turing", "alan@bletchley.test"),
        "grace": person(workspace, "Grace Hopper", "grace@navy.test", catalog.VIEWER),
    }


@pytest.fixture
def other():
    workspace = make_workspace(UserFactory(), "Other")
    return {
        "workspace": workspace,
        "member": person(workspace, "Ada Elsewhere", "ada@elsewhere.test"),
        "team": make_team(workspace, "Adamant"),
        "site": make_site(workspace, "Shop elsewhere"),
    }


# --- the site access page: member or team ---------------------------------------------------------


def test_grantee_search_finds_members_and_teams_of_this_workspace_only(client, owner, site, people, other):
    team = make_team(site.workspace, "Adaptive")
    client.force_login(owner)
    response = client.get(access_url(site), {"grantee_q": "ADA"})
    picker = response.context["grantee_picker"]
    assert values(picker) == [f"m{people['ada'].pk}", f"t{team.pk}"]
    html = response.content.decode()
    assert 'name="grantee_q" id="id_grantee_q" value="ADA"' in html
    assert 'type="radio" name="grant-grantee"' in html and "Adaptive" in html
    assert "elsewhere" not in html.lower() and "Adamant" not in html


def test_a_search_keeps_the_pages_other_parameters(client, owner, site, people):
    client.force_login(owner)
    html = client.get(access_url(site), {"q": "ada", "page": "2", "grantee_q": "al"}).content.decode()
    assert '<input type="hidden" name="q" value="ada">' in html
    assert '<input type="hidden" name="page" value="2">' in html
    assert 'action="#grant-heading"' in html and 'action="#owner-heading"' in html


def test_at_most_twenty_matches_and_a_note(client, workspace, owner, site):
    for n in range(25):
        person(workspace, f"Person {n:02d}", f"p{n:02d}@x.test")
    client.force_login(owner)
    response = client.get(access_url(site))
    assert len(response.context["grantee_picker"].choices) == 20
    assert response.context["grantee_picker"].more
    html = response.content.decode()
    assert "The first 20 in order are shown" in html
    assert html.count('name="grant-grantee"') == 20 and html.count('name="owner"') == 20
    narrowed = client.get(access_url(site), {"grantee_q": "person 2"})
    assert len(narrowed.context["grantee_picker"].choices) == 5 and not narrowed.context["grantee_picker"].more


def test_the_fragment_is_the_list_alone(client, owner, site, people):
    client.force_login(owner)
    response = client.get(access_url(site), {"picker": "grantee", "grantee_q": "alan"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert 'id="picker-grantee"' in html and f'value="m{people["alan"].pk}"' in html
    owner_fragment = client.get(access_url(site), {"picker": "owner", "owner_q": "grace"}).content.decode()
    assert 'name="owner"' in owner_fragment and f'value="{people["grace"].pk}"' in owner_fragment
    page = client.get(access_url(site), {"picker": "nonsense"}).content.decode()
    assert "<html" in page  # an unknown picker is the page itself


def test_the_fragment_is_refused_like_the_page(client, workspace, site, people, other):
    client.force_login(people["alan"].user)  # a Member: no manage_site_access
    assert client.get(access_url(site), {"picker": "grantee", "grantee_q": "a"}).status_code == 403
    client.force_login(other["member"].user)
    assert client.get(access_url(site), {"picker": "grantee", "grantee_q": "a"}).status_code == 404


def test_the_page_uses_the_picker_script_as_a_static_file(client, owner, site, people):
    client.force_login(owner)
    html = client.get(access_url(site)).content.decode()
    assert '<script src="/static/js/picker.js" defer></script>' in html
    assert "<script>" not in html  # nothing inline: the CSP forbids it


def test_granting_a_picked_member_and_a_picked_team(client, workspace, owner, site, people):
    team = make_team(workspace, "Growth")
    client.force_login(owner)
    editor = builtin_role(catalog.EDITOR, catalog.SITE).pk
    client.post(
        reverse("site_access:grant_set", args=[workspace.slug, site.slug]),
        {"grant-grantee": f"m{people['alan'].pk}", "grant-role": editor},
    )
    client.post(
        reverse("site_access:grant_set", args=[workspace.slug, site.slug]),
        {"grant-grantee": f"t{team.pk}", "grant-role": editor},
    )
    assert SiteGrant.objects.filter(site=site, membership=people["alan"]).exists()
    assert SiteGrant.objects.filter(site=site, team=team).exists()


@pytest.mark.parametrize(
    "value", ["m", "t", "m٣", "m" + "9" * 40, "m-1", "m0", "x\x00", "\x00", "m1\x00", "t" + "9" * 19]
)
def test_hostile_grantees_are_refused_with_a_message(client, workspace, owner, site, value):
    client.force_login(owner)
    data = {"grant-grantee": value, "grant-role": builtin_role(catalog.EDITOR, catalog.SITE).pk}
    response = client.post(reverse("site_access:grant_set", args=[workspace.slug, site.slug]), data, follow=True)
    assert response.status_code == 200
    assert any("Member or team:" in str(m) for m in response.context["messages"])
    assert not SiteGrant.objects.exists()


@pytest.mark.parametrize("value", ["٣", "9" * 40, "-1", "\x00", "abc", "1.0"])
def test_hostile_site_owners_are_refused_with_a_message(client, workspace, owner, site, value):
    before = site.owner_id
    client.force_login(owner)
    response = client.post(
        reverse("site_access:owner", args=[workspace.slug, site.slug]), {"owner": value}, follow=True
    )
    assert response.status_code == 200 and any("Site owner:" in str(m) for m in response.context["messages"])
    site.refresh_from_db()
    assert site.owner_id == before


def test_the_site_owner_picked_by_search(client, workspace, owner, site, people):
    client.force_login(owner)
    response = client.get(access_url(site), {"owner_q": "hopper"})
    assert values(response.context["owner_picker"]) == [str(people["grace"].pk)]
    client.post(reverse("site_access:owner", args=[workspace.slug, site.slug]), {"owner": people["grace"].pk})
    site.refresh_from_db()
    assert site.owner_id == people["grace"].pk


# --- the site access page: its lists --------------------------------------------------------------


def test_member_and_team_grants_are_paged_and_searched(client, workspace, owner, site):
    viewer = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    members = [person(workspace, f"Person {n:02d}", f"p{n:02d}@x.test") for n in range(55)]
    for member in members:
        site_grant_set(actor=None, site=site, membership=member, role=viewer)
    teams = [make_team(workspace, f"Team {n:02d}") for n in range(52)]
    for team in teams:
        site_grant_set(actor=None, site=site, team=team, role=viewer)
    client.force_login(owner)
    first = client.get(access_url(site))
    assert len(first.context["member_grants"]) == 50 and len(first.context["team_grants"]) == 50
    html = first.content.decode()
    assert "?page=2" in html and "?tpage=2" in html and "Page 1 of 2 (55 member grants)" in html
    later = client.get(access_url(site), {"page": "2", "tpage": "2"})
    assert [g.membership.pk for g in later.context["member_grants"]] == [m.pk for m in members[50:]]
    assert [g.team.pk for g in later.context["team_grants"]] == [t.pk for t in teams[50:]]
    found = client.get(access_url(site), {"q": "p07@"})
    assert [g.membership.pk for g in found.context["member_grants"]] == [members[7].pk]
    assert list(found.context["team_grants"]) == []
    assert "No team grant matches “p07@”." in found.content.decode()
    teams_found = client.get(access_url(site), {"q": "team 3"})
    assert len(teams_found.context["team_grants"]) == 10


@pytest.mark.parametrize(
    "params",
    [
        *({"q": text} for text in HOSTILE_TEXT),
        *({"grantee_q": text} for text in HOSTILE_TEXT),
        *({"owner_q": text, "picker": "owner"} for text in HOSTILE_TEXT),
        {"page": "abc", "tpage": "٣"},
        {"page": "9" * 5000},
        {"picker": "\x00"},
        {"\x00": "\x00"},
    ],
)
def test_hostile_parameters_never_break_the_access_page(client, owner, site, people, params):
    client.force_login(owner)
    assert client.get(access_url(site), params).status_code == 200


# the site access page's queries (tests/test_site_access_pages.py), with a search in every part
ACCESS_QUERIES = 18


@pytest.mark.parametrize("size", [5, 60])
def test_searching_costs_the_same_at_any_size(client, workspace, owner, site, django_assert_num_queries, size):
    viewer = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    for n in range(size):
        member = person(workspace, f"Person {n:03d}", f"p{n:03d}@x.test")
        site_grant_set(actor=None, site=site, membership=member, role=viewer)
        if n % 10 == 0:
            team = make_team(workspace, f"Person team {n:03d}")
            team_add_member(actor=None, team=team, membership=member)
            site_grant_set(actor=None, site=site, team=team, role=viewer)
    client.force_login(owner)
    params = {"q": "person", "grantee_q": "person", "owner_q": "p0", "page": "2"}
    with django_assert_num_queries(ACCESS_QUERIES):
        response = client.get(access_url(site), params)
    assert response.status_code == 200
    # the fragment: session, user, membership, site, workspace permissions, the picker's matches
    with django_assert_num_queries(6):
        client.get(access_url(site), {"picker": "owner", "owner_q": "p0"})


def test_the_access_page_does_not_grow_with_the_members(client, workspace, owner, site):
    for n in range(25):
        person(workspace, f"Person {n:03d}", f"p{n:03d}@x.test")
    client.force_login(owner)
    small = client.get(access_url(site)).content.decode()
    for n in range(25, 120):
        person(workspace, f"Person {n:03d}", f"p{n:03d}@x.test")
    large = client.get(access_url(site)).content.decode()
    assert len(large) == len(small) and "<option" not in large.split('id="grant-heading"')[1].split("grant-role")[0]


# --- the collaborators page -------------------------------------------------------------------------


def collaborators_url(experience) -> str:
    return reverse("collaborators:index", args=[experience.workspace.slug, experience.pk])


def test_collaborators_are_found_by_search_and_viewers_never_offered(client, workspace, owner, people):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    found = client.get(collaborators_url(experience), {"member_q": "a"}).context["member_picker"]
    assert set(values(found)) == {str(people["ada"].pk), str(people["alan"].pk)}  # not Grace (Viewer)
    assert values(client.get(collaborators_url(experience), {"member_q": "grace"}).context["member_picker"]) == []
    html = client.get(collaborators_url(experience), {"member_q": "grace"}).content.decode()
    assert "Nothing matches “grace”." in html
    client.post(reverse("collaborators:add", args=[workspace.slug, experience.pk]), {"membership": people["alan"].pk})
    assert Collaborator.objects.filter(experience=experience, membership=people["alan"]).exists()
    again = client.get(collaborators_url(experience), {"member_q": "alan"}).context["member_picker"]
    assert values(again) == []  # already collaborates


def test_the_collaborators_fragment_and_who_may_see_it(client, workspace, owner, people, other):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    fragment = client.get(collaborators_url(experience), {"picker": "member", "member_q": "ada"}).content.decode()
    assert "<html" not in fragment and f'name="membership" value="{people["ada"].pk}"' in fragment
    client.force_login(people["grace"].user)  # a Viewer: sees the page, may not add
    response = client.get(collaborators_url(experience), {"picker": "member", "member_q": "ada"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert 'name="membership"' not in response.content.decode()
    client.force_login(other["member"].user)
    assert client.get(collaborators_url(experience), {"picker": "member"}).status_code == 404


@pytest.mark.parametrize("value", ["٣", "9" * 40, "\x00", "", "abc"])
def test_hostile_collaborators_are_refused(client, workspace, owner, value):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    response = client.post(reverse("collaborators:add", args=[workspace.slug, experience.pk]), {"membership": value})
    assert response.status_code in (302, 404)
    assert Collaborator.objects.filter(experience=experience).count() == 1  # the creator


@pytest.mark.parametrize(
    "params",
    [*({"member_q": text} for text in HOSTILE_TEXT), {"page": "abc"}, {"picker": "member", "member_q": "\x00"}],
)
def test_hostile_parameters_never_break_the_collaborators_page(client, workspace, owner, people, params):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    assert client.get(collaborators_url(experience), params).status_code == 200


# session, user, membership with its workspace, experience, experience permissions, workspace
# permissions, a page of collaborators (count, rows), the picker's matches
COLLABORATORS_QUERIES = 9


@pytest.mark.parametrize("size", [5, 60])
def test_collaborators_page_costs_the_same_at_any_size(client, workspace, owner, django_assert_num_queries, size):
    experience = make_experience(workspace, creator=owner)
    members = [person(workspace, f"Person {n:03d}", f"p{n:03d}@x.test") for n in range(size)]
    for member in members[::2]:
        collaborator_add(actor=None, experience=experience, membership=member)
    client.force_login(owner)
    with django_assert_num_queries(COLLABORATORS_QUERIES):
        response = client.get(collaborators_url(experience), {"member_q": "person", "page": "2"})
    assert len(response.context["member_picker"].choices) == min(size // 2, 20)


# --- the invitation form's sites ------------------------------------------------------------------------


def people_url(workspace) -> str:
    return reverse("people:index", args=[workspace.slug])


def invite(client, workspace, **data):
    data.setdefault("role", builtin_role(catalog.MEMBER).pk)
    data.setdefault("emails", "new@x.test")
    return client.post(reverse("people:invite", args=[workspace.slug]), data)


def site_options(html: str) -> int:
    """The options of the first site field."""
    return html.split('name="site_1"')[1].split("</select>")[0].count("<option")


def test_a_few_sites_are_all_offered_without_a_search(client, workspace, owner):
    for name in ("Shop", "Blog"):
        make_site(workspace, name)
    client.force_login(owner)
    html = client.get(people_url(workspace)).content.decode()
    assert site_options(html) == 3  # "No site" and the two
    assert 'name="site_q"' not in html


def test_many_sites_offer_twenty_and_a_search(client, workspace, owner):
    sites = [make_site(workspace, f"Site {n:02d}") for n in range(30)]
    client.force_login(owner)
    html = client.get(people_url(workspace)).content.decode()
    assert site_options(html) == 21 and 'name="site_q"' in html
    assert f'action="{people_url(workspace)}#invite-heading"' in html
    narrowed = client.get(people_url(workspace), {"site_q": "site 2"}).content.decode()
    assert site_options(narrowed) == 11 and f'value="{sites[25].pk}">Site 25<' in narrowed


def test_inviting_with_a_site_found_by_search(client, workspace, owner, django_capture_on_commit_callbacks):
    sites = [make_site(workspace, f"Site {n:02d}") for n in range(30)]
    client.force_login(owner)
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, workspace, site_1=sites[29].pk, site_role_1=editor.pk)
    assert response.status_code == 302
    grant = InviteSiteGrant.objects.get()
    assert grant.site_id == sites[29].pk and grant.role_id == editor.pk and len(mail.outbox) == 1


def test_a_site_chosen_stays_chosen_when_the_form_comes_back(client, workspace, owner):
    sites = [make_site(workspace, f"Site {n:02d}") for n in range(30)]
    client.force_login(owner)
    response = invite(client, workspace, emails="not an address", site_1=sites[29].pk)
    html = response.content.decode()
    assert f'<option value="{sites[29].pk}" selected>Site 29</option>' in html
    assert not Invite.objects.exists()


def test_a_site_the_inviter_cannot_see_or_of_another_workspace_is_refused(client, workspace, other):
    hidden = make_site(workspace, "Hidden")
    inviter_role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Inviter",
        capabilities={"view_workspace", "view_members", "invite_members"},
    )
    inviter = add_member(workspace, inviter_role).user
    client.force_login(inviter)
    editor = builtin_role(catalog.SITE_VIEWER, catalog.SITE).pk
    for site in (hidden, other["site"]):
        response = invite(client, workspace, site_1=site.pk, site_role_1=editor)
        assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert not Invite.objects.exists()


@pytest.mark.parametrize("value", ["٣", "9" * 40, "-1", "\x00", "abc", "1\x00", "0"])
def test_hostile_sites_in_the_invitation_are_refused(client, workspace, owner, value):
    make_site(workspace, "Shop")
    client.force_login(owner)
    response = invite(client, workspace, site_1=value, site_role_1=builtin_role(catalog.EDITOR, catalog.SITE).pk)
    assert response.status_code == 200
    assert not Invite.objects.exists()


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_site_searches_never_break_the_people_page(client, workspace, owner, text):
    make_site(workspace, "Shop")
    client.force_login(owner)
    assert client.get(people_url(workspace), {"site_q": text}).status_code == 200


def test_the_people_page_does_not_grow_with_the_sites(client, workspace, owner):
    for n in range(25):
        make_site(workspace, f"Site {n:03d}")
    client.force_login(owner)
    small = client.get(people_url(workspace)).content.decode()
    for n in range(25, 90):
        make_site(workspace, f"Site {n:03d}")
    large = client.get(people_url(workspace)).content.decode()
    assert large.count("<option") == small.count("<option") and abs(len(large) - len(small)) < 100


# --- the experience form's site -------------------------------------------------------------------


def experience_form_url(workspace, experience=None) -> str:
    if experience is None:
        return reverse("workspaces:experience_create", args=[workspace.slug])
    return reverse("workspaces:experience_edit", args=[workspace.slug, experience.pk])


def test_the_experience_form_lists_twenty_sites_and_a_search(client, workspace, owner):
    sites = [make_site(workspace, f"Site {n:02d}") for n in range(30)]
    client.force_login(owner)
    html = client.get(experience_form_url(workspace)).content.decode()
    assert site_options_of(html, "site") == 21 and 'name="site_q"' in html
    narrowed = client.get(experience_form_url(workspace), {"site_q": "site 2"}).content.decode()
    assert site_options_of(narrowed, "site") == 11
    response = client.post(experience_form_url(workspace), {"title": "Tour", "site": sites[29].pk})
    assert response.status_code == 302
    experience = owner.created_experiences.get() if hasattr(owner, "created_experiences") else None
    edit = client.get(response["Location"] + "edit/").content.decode()
    assert (
        f'<option value="{sites[29].pk}" selected>Site 29</option>' in edit
    )  # the current site, though not among the first 20
    assert experience is None or experience.site_id == sites[29].pk


def test_a_few_sites_need_no_search_on_the_experience_form(client, workspace, owner):
    make_site(workspace, "Shop")
    client.force_login(owner)
    html = client.get(experience_form_url(workspace)).content.decode()
    assert site_options_of(html, "site") == 2 and 'name="site_q"' not in html


@pytest.mark.parametrize("value", ["٣", "9" * 40, "\x00", "abc"])
def test_hostile_or_foreign_sites_on_the_experience_form(client, workspace, owner, other, value):
    client.force_login(owner)
    for site in (value, other["site"].pk):
        response = client.post(experience_form_url(workspace), {"title": "Tour", "site": site})
        assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not Experience.objects.filter(title="Tour").exists()
    assert client.get(experience_form_url(workspace), {"site_q": value}).status_code == 200


def site_options_of(html: str, name: str) -> int:
    return html.split(f'name="{name}"')[1].split("</select>")[0].count("<option")
