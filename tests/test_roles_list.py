"""The roles list (what each role is for, its kind, its origin and how many hold it, at a fixed number
of queries) and the role pickers' labels, which tell two presets' "Admin" apart."""

from __future__ import annotations

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.forms import role_choice_label
from permissions.models import Role
from permissions.presets import PRESETS, load_preset
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.models import Site
from workspaces.people.forms import InviteForm, RoleChangeForm
from workspaces.sites.services import site_grant_set


def _url(workspace, name="index", **query) -> str:
    base = reverse(f"roles:{name}", args=[workspace.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _custom(workspace, name, scope=catalog.WORKSPACE, description=""):
    caps, site_caps = ({"view_usage"}, {"view_site"}) if scope == catalog.WORKSPACE else ({"view_site"}, set())
    return role_save(
        actor=None,
        workspace=workspace,
        scope=scope,
        name=name,
        description=description,
        capabilities=caps,
        site_capabilities=site_caps,
    )


def _rows_by_name(response) -> dict[str, Role]:
    return {row["role"].name: row["role"] for row in response.context["rows"]}


def test_the_list_says_what_each_role_is_for_and_who_holds_it(client, workspace, owner):
    analyst = _custom(workspace, "Analyst", description="Reads the numbers")
    looker = _custom(workspace, "Looker", scope=catalog.SITE, description="Looks at one site")
    add_member(workspace, analyst)
    add_member(workspace, analyst)
    site = make_site(workspace)
    team = make_team(workspace)
    site_grant_set(actor=None, site=site, role=looker, membership=add_member(workspace, catalog.VIEWER))
    site_grant_set(actor=None, site=site, role=looker, team=team)
    other = make_workspace(name="Other")
    add_member(other, catalog.VIEWER)  # another workspace's holders are not counted
    client.force_login(owner)
    response = client.get(_url(workspace))
    roles = _rows_by_name(response)
    assert roles["Analyst"].member_count == 2
    assert roles["Looker"].grant_count == 2
    assert roles["Owner"].member_count == 1
    assert roles["Viewer"].member_count == 1
    html = response.content.decode()
    for text in ("Reads the numbers", "Looks at one site", "2 members", "2 site grants", "Site role", "built-in"):
        assert text in html
    admin = next(r for r in catalog.BUILTIN_WORKSPACE_ROLES if r.key == catalog.ADMIN)
    assert admin.description in html
    assert list(roles)[:8] == [r.name for r in catalog.BUILTIN_ROLES]  # built-in first, workspace roles first


@pytest.mark.parametrize("count", [2, 30])
def test_list_query_count_does_not_grow(client, workspace, owner, django_assert_num_queries, count):
    site = make_site(workspace)
    for n in range(count):
        role = _custom(workspace, f"Role {n}", scope=catalog.WORKSPACE if n % 2 else catalog.SITE)
        holder = add_member(workspace, role if role.scope == catalog.WORKSPACE else catalog.MEMBER)
        if role.scope == catalog.SITE:
            site_grant_set(actor=None, site=site, role=role, membership=holder)
    client.force_login(owner)
    # session, user, membership with its workspace, capabilities, the roles' count, the page of
    # roles with their holder counts
    with django_assert_num_queries(6):
        response = client.get(_url(workspace))
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(8 + count, 50)
    assert all(row["role"].member_count + row["role"].grant_count >= 1 for row in response.context["rows"][8:])


def test_list_is_searchable_and_paginated(client, workspace, owner):
    for n in range(55):
        _custom(workspace, f"Custom {n:02}")
    _custom(workspace, "Auditor", description="Checks the books")
    client.force_login(owner)
    first = client.get(_url(workspace))
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next()
    second = client.get(_url(workspace, page=2))
    assert len(second.context["rows"]) == 8 + 56 - 50
    found = client.get(_url(workspace, q="books"))
    assert list(_rows_by_name(found)) == ["Auditor"]
    for hostile in ("%00", "%EF%BF%BF", "x" * 500, "'%20OR%201=1"):
        assert client.get(_url(workspace, q=hostile)).status_code == 200
    assert client.get(_url(workspace, page="nope")).status_code == 200


def test_list_offers_controls_only_to_role_managers(client, workspace, owner):
    custom = _custom(workspace, "Analyst")
    client.force_login(add_member(workspace, catalog.MEMBER).user)
    html = client.get(_url(workspace)).content.decode()
    assert "Analyst" in html
    assert reverse("roles:edit", args=[workspace.slug, custom.pk]) not in html
    assert "?from=" not in html and "Load the preset" not in html
    client.force_login(owner)
    html = client.get(_url(workspace)).content.decode()
    assert reverse("roles:edit", args=[workspace.slug, custom.pk]) in html
    assert f"?from={builtin_role(catalog.ADMIN).pk}" in html


# --- pickers ------------------------------------------------------------------------------------


def _two_presets_with_an_admin(workspace):
    names = [name for name, preset in PRESETS.items() if any(spec.name == "Admin" for spec in preset.roles)]
    assert len(names) >= 2
    for name in names[:2]:
        load_preset(actor=None, workspace=workspace, name=name)
    return Role.objects.filter(workspace=workspace, name="Admin").order_by("pk")


def test_two_presets_admins_are_told_apart_everywhere(client, workspace, owner):
    admins = list(_two_presets_with_an_admin(workspace))
    labels = {role_choice_label(role) for role in admins}
    assert len(labels) == 2
    for role in admins:
        assert role_choice_label(role).startswith(f"Admin (preset {PRESETS[role.preset].title.partition(':')[0]})")
    client.force_login(owner)
    listed = client.get(_url(workspace)).content.decode()
    matrix = client.get(_url(workspace, "matrix")).content.decode()
    for role in admins:
        origin = f"preset {PRESETS[role.preset].title.partition(':')[0]}"
        assert origin in listed and origin in matrix


def test_builtin_role_label_carries_its_description(db):
    admin = builtin_role(catalog.ADMIN)
    assert role_choice_label(admin).startswith("Admin — Runs the workspace")
    assert len(role_choice_label(admin)) < 120


def test_workspace_role_pickers_show_descriptions(client, workspace, owner):
    _custom(workspace, "Analyst", description="Reads the numbers")
    form = RoleChangeForm(workspace=workspace)
    html = str(form["role"])
    assert "Analyst (custom) — Reads the numbers" in html
    assert "Member — Creates experiences" in html
    roles = list(Role.objects.filter(scope=catalog.WORKSPACE))
    site_roles = list(Role.objects.filter(scope=catalog.SITE))
    invite = InviteForm(
        roles=roles, givable=roles, sites=[], site_roles=site_roles, teams=[], site_candidates=Site.objects.none()
    )
    assert "Analyst (custom) — Reads the numbers" in str(invite["role"])
    assert "Editor — Create and edit analyses" in str(invite["site_role_1"])


def test_people_page_role_select_and_site_access_picker_show_descriptions(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER)
    site = make_site(workspace)
    client.force_login(owner)
    people = client.get(reverse("people:index", args=[workspace.slug])).content.decode()
    assert f'<select name="role" id="role-{member.pk}">' in people
    assert ">Viewer — Read-only: aggregated analytics" in people  # the bulk form's role picker
    access = client.get(reverse("site_access:index", args=[workspace.slug, site.slug])).content.decode()
    assert "Site viewer — View only." in access


def test_a_role_picker_refuses_another_workspaces_role(workspace):
    foreign = _custom(make_workspace(owner=UserFactory(), name="Other"), "Theirs")
    form = RoleChangeForm({"role": str(foreign.pk)}, workspace=workspace)
    assert not form.is_valid()
    assert "Theirs" not in str(form["role"])
