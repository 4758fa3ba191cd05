"""The role editor: start from any role, tick a whole area at once (without JavaScript), and list only
the capabilities of the chosen kind of role."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.models import Role
from permissions.roles import builtin_role, role_codes
from permissions.services import role_save
from tests.factories import add_member, make_workspace


def _new(workspace, **query) -> str:
    base = reverse("roles:create", args=[workspace.slug])
    return base + ("?" + urlencode(query) if query else "")


def _area(scope: str, name: str) -> set[str]:
    return {cap.codename for cap in catalog.BY_SCOPE[scope] if cap.area == name}


def _ticked(response, field: str) -> set[str]:
    form = response.context["form"]
    return set(form[field].value() or ())


# --- start from a role ----------------------------------------------------------------------------


def test_start_from_a_builtin_role_ticks_its_capabilities(client, workspace, owner):
    admin = builtin_role(catalog.ADMIN)
    client.force_login(owner)
    response = client.get(_new(workspace, **{"from": admin.pk}))
    assert response.status_code == 200
    caps, site_caps = role_codes(admin)
    assert _ticked(response, "workspace_capabilities") == set(caps)
    assert _ticked(response, "site_capabilities") == set(site_caps)
    assert response.context["form"]["name"].value() in (None, "")
    html = response.content.decode()
    assert "Started from <strong>Admin</strong>" in html
    assert f'<option value="{admin.pk}" selected>' in html


def test_start_from_a_site_role_makes_a_site_role(client, workspace, owner):
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    client.force_login(owner)
    response = client.get(_new(workspace, **{"from": editor.pk}))
    assert response.context["form"].chosen_scope == catalog.SITE
    assert _ticked(response, "site_capabilities") == set(role_codes(editor)[0])
    assert 'name="workspace_capabilities"' not in response.content.decode()
    data = {
        "name": "Editor plus",
        "scope": "site",
        "site_capabilities": sorted(role_codes(editor)[0] | {"tag_comments"}),
    }
    assert client.post(_new(workspace), data).status_code == 302
    made = Role.objects.get(workspace=workspace, name="Editor plus")
    assert made.scope == catalog.SITE and "tag_comments" in role_codes(made)[0]


def test_start_from_a_custom_role(client, workspace, owner):
    custom = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Analyst",
        capabilities={"view_usage", "export_members"},
        site_capabilities={"view_site"},
    )
    client.force_login(owner)
    response = client.get(_new(workspace, **{"from": custom.pk}))
    assert _ticked(response, "workspace_capabilities") == {"view_workspace", "view_usage", "export_members"}
    assert _ticked(response, "site_capabilities") == {"view_site"}


def test_start_from_leaves_out_what_the_person_does_not_hold(client, workspace):
    """An Admin starting from Owner: billing, single sign-on and deletion are not ticked, and the page
    says why (rule 3: they could not give them)."""
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    response = client.get(_new(workspace, **{"from": builtin_role(catalog.OWNER).pk}))
    ticked = _ticked(response, "workspace_capabilities")
    assert {"manage_billing", "manage_sso", "delete_workspace", "manage_owners"}.isdisjoint(ticked)
    assert "invite_members" in ticked
    html = response.content.decode()
    assert "Manage single sign-on (SSO)" in response.context["not_held"]
    assert "you do not hold them yourself" in html


@pytest.mark.parametrize("wanted", ["999999", "abc", "١", "", "-1", "1" * 40])
def test_start_from_nonsense_is_404(client, workspace, owner, wanted):
    client.force_login(owner)
    assert client.get(_new(workspace, **{"from": wanted})).status_code == 404


def test_start_from_another_workspaces_role_is_404(client, workspace, owner):
    theirs = role_save(
        actor=None,
        workspace=make_workspace(name="Other"),
        scope=catalog.WORKSPACE,
        name="Secret",
        capabilities={"view_usage"},
        site_capabilities=set(),
    )
    client.force_login(owner)
    response = client.get(_new(workspace, **{"from": theirs.pk}))
    assert response.status_code == 404
    assert "Secret" not in client.get(_new(workspace)).content.decode()


def test_start_from_needs_manage_roles(client, workspace):
    client.force_login(add_member(workspace, catalog.MEMBER).user)
    assert client.get(_new(workspace, **{"from": builtin_role(catalog.ADMIN).pk})).status_code == 403


# --- the chosen kind only ---------------------------------------------------------------------------


def test_a_site_role_page_lists_site_capabilities_only(client, workspace, owner):
    client.force_login(owner)
    site_page = client.get(_new(workspace, scope="site")).content.decode()
    assert 'name="workspace_capabilities"' not in site_page
    assert 'name="site_capabilities" value="view_site"' in site_page
    assert '<input type="hidden" name="scope" value="site"' in site_page
    workspace_page = client.get(_new(workspace)).content.decode()
    assert 'name="workspace_capabilities" value="view_members"' in workspace_page
    assert "Site capabilities, on every site" in workspace_page
    assert '<input type="hidden" name="scope" value="workspace"' in workspace_page


@pytest.mark.parametrize("scope", ["experience", "", "\x00", "site" * 30])
def test_an_unknown_kind_asked_for_is_a_workspace_role(client, workspace, owner, scope):
    client.force_login(owner)
    response = client.get(_new(workspace, scope=scope))
    assert response.status_code == 200
    assert '<input type="hidden" name="scope" value="workspace"' in response.content.decode()


def test_editing_a_site_role_lists_site_capabilities_only(client, workspace, owner):
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.SITE,
        name="Looker",
        capabilities={"view_site"},
        site_capabilities=set(),
    )
    client.force_login(owner)
    html = client.get(reverse("roles:edit", args=[workspace.slug, role.pk])).content.decode()
    assert 'name="workspace_capabilities"' not in html
    assert 'value="view_site" id="id_site_capabilities_view_site" checked' in html


def test_a_forged_site_role_with_workspace_capabilities_is_refused(client, workspace, owner):
    client.force_login(owner)
    response = client.post(
        _new(workspace),
        {
            "name": "Odd",
            "scope": "site",
            "site_capabilities": ["view_site"],
            "workspace_capabilities": ["view_members"],
        },
    )
    assert response.status_code == 200
    assert "site capabilities only" in response.content.decode()
    assert not Role.objects.filter(name="Odd").exists()


def test_a_forged_scope_is_refused(client, workspace, owner):
    client.force_login(owner)
    response = client.post(_new(workspace), {"name": "Odd", "scope": "experience", "site_capabilities": ["view_site"]})
    assert response.status_code == 200
    assert "Kind of role:" in response.content.decode()
    assert not Role.objects.filter(name="Odd").exists()


# --- a whole area at once -------------------------------------------------------------------------


def test_each_area_has_an_all_box(client, workspace, owner):
    client.force_login(owner)
    html = client.get(_new(workspace)).content.decode()
    for area, _ in catalog.areas(catalog.WORKSPACE):
        assert f'name="all_workspace_capabilities" value="{area.replace("&", "&amp;")}"' in html
    for area, _ in catalog.areas(catalog.SITE):
        assert f'name="all_site_capabilities" value="{area}"' in html
    assert "js/role-editor.js" in html  # the optional enhancement, a static file (no inline script)
    assert "<script>" not in html


def test_the_all_box_ticks_a_whole_area_without_javascript(client, workspace, owner):
    client.force_login(owner)
    response = client.post(
        _new(workspace),
        {
            "name": "People lead",
            "scope": "workspace",
            "all_workspace_capabilities": ["People"],
            "all_site_capabilities": ["Dashboards"],
            "site_capabilities": ["view_site"],
        },
    )
    assert response.status_code == 302
    caps, site_caps = role_codes(Role.objects.get(workspace=workspace, name="People lead"))
    assert caps == (_area(catalog.WORKSPACE, "People") - catalog.OWNER_ONLY) | {"view_workspace"}
    assert site_caps == _area(catalog.SITE, "Dashboards") | {"view_site"}


def test_the_all_box_never_gives_what_one_does_not_hold(client, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    response = client.post(
        _new(workspace), {"name": "Payer", "scope": "workspace", "all_workspace_capabilities": ["Billing"]}
    )
    assert response.status_code == 200
    assert "You cannot give capabilities you do not hold: manage_billing" in response.content.decode()
    assert not Role.objects.filter(name="Payer").exists()
    assert not AuditEvent.objects.filter(action="role.create").exists()


def test_the_all_box_of_a_workspace_area_on_a_site_role_is_refused(client, workspace, owner):
    client.force_login(owner)
    response = client.post(_new(workspace), {"name": "Odd", "scope": "site", "all_workspace_capabilities": ["People"]})
    assert response.status_code == 200
    assert not Role.objects.filter(name="Odd").exists()


def test_unknown_areas_change_nothing(client, workspace, owner):
    client.force_login(owner)
    response = client.post(
        _new(workspace),
        {"name": "Plain", "scope": "workspace", "all_workspace_capabilities": ["Nope", "\x00", "People" * 50]},
    )
    assert response.status_code == 302
    assert role_codes(Role.objects.get(name="Plain"))[0] == {"view_workspace"}


def test_a_member_cannot_post_the_editor(client, workspace):
    client.force_login(add_member(workspace, catalog.VIEWER).user)
    response = client.post(
        _new(workspace), {"name": "Mine", "scope": "workspace", "all_workspace_capabilities": ["People"]}
    )
    assert response.status_code == 403
    assert not Role.objects.filter(name="Mine").exists()
