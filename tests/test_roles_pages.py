"""The roles pages: list and matrix for every member; editor, delete and presets for manage_roles only."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from audit.models import AuditEvent
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import builtin_role, role_codes
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_site, make_workspace


def _role(workspace, name="Analyst", scope=catalog.WORKSPACE, caps=("view_usage",), site_caps=("view_site",)):
    if scope == catalog.SITE:
        caps, site_caps = site_caps, ()
    return role_save(
        actor=None,
        workspace=workspace,
        scope=scope,
        name=name,
        capabilities=set(caps),
        site_capabilities=set(site_caps),
    )


def _client_for(client, user):
    client.force_login(user)
    return client


def _url(name, workspace, *args):
    return reverse(f"roles:{name}", args=[workspace.slug, *args])


# --- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("role_key", [r.key for r in catalog.BUILTIN_WORKSPACE_ROLES])
def test_every_member_sees_the_list_and_the_matrix(client, workspace, owner, role_key):
    user = owner if role_key == catalog.OWNER else add_member(workspace, role_key).user
    custom = _role(workspace)
    client = _client_for(client, user)
    matrix = client.get(_url("matrix", workspace))
    assert matrix.status_code == 200
    for spec in catalog.BUILTIN_ROLES:
        assert spec.name in matrix.content.decode()
    assert _url("index", workspace) in matrix.content.decode()  # the matrix links back to the list
    response = client.get(_url("index", workspace))
    assert response.status_code == 200
    html = response.content.decode()
    for spec in catalog.BUILTIN_ROLES:
        assert spec.name in html
    assert _url("matrix", workspace) in html
    shows_controls = role_key in (catalog.OWNER, catalog.ADMIN)
    assert (_url("create", workspace) in html) == shows_controls
    assert (_url("load_preset", workspace) in html) == shows_controls
    assert (_url("edit", workspace, custom.pk) in html) == shows_controls
    assert (_url("delete", workspace, custom.pk) in html) == shows_controls


def test_list_and_matrix_are_404_for_non_members(client, workspace):
    client = _client_for(client, UserFactory())
    assert client.get(_url("matrix", workspace)).status_code == 404
    assert client.get(_url("index", workspace)).status_code == 404


def test_matrix_cells_follow_the_catalog(client, workspace, owner):
    _role(workspace, "Analyst", caps=("view_usage",), site_caps=("view_dashboards",))
    response = _client_for(client, owner).get(_url("matrix", workspace))
    tables = response.context["tables"]
    ws_table, site_table = tables
    names = [role.name for role in ws_table["roles"]]
    assert names == ["Owner", "Admin", "Billing admin", "Member", "Viewer", "Analyst"]
    assert [role.name for role in site_table["roles"]] == ["Site admin", "Editor", "Site viewer"]
    ws_cells = {row["cap"].codename: row["cells"] for _, rows in ws_table["groups"][0]["areas"] for row in rows}
    assert ws_cells["manage_billing"] == [True, False, True, False, False, False]
    assert ws_cells["view_usage"] == [True, True, False, False, False, True]
    on_every_site = {row["cap"].codename: row["cells"] for _, rows in ws_table["groups"][1]["areas"] for row in rows}
    assert on_every_site["view_shared_dashboards"] == [True, True, False, False, True, True]
    site_cells = {row["cap"].codename: row["cells"] for _, rows in site_table["groups"][0]["areas"] for row in rows}
    assert site_cells["delete_site"] == [False, False, False]
    assert site_cells["add_highlights"] == [True, True, True]
    html = response.content.decode()
    assert '<span class="visually-hidden">Yes</span>' in html and '<span class="visually-hidden">No</span>' in html
    for area, _ in catalog.areas(catalog.WORKSPACE):
        assert escape(area) in html


def test_list_and_matrix_hide_other_workspaces_custom_roles(client, workspace, owner):
    other = make_workspace(name="Other")
    _role(other, "Secret elsewhere")
    client = _client_for(client, owner)
    for name in ("matrix", "index"):
        assert "Secret elsewhere" not in client.get(_url(name, workspace)).content.decode()


@pytest.mark.parametrize("count", [2, 20])
def test_matrix_query_count_does_not_grow_with_roles(client, workspace, owner, django_assert_num_queries, count):
    for n in range(count):
        _role(workspace, f"Custom {n}", scope=catalog.WORKSPACE if n % 2 else catalog.SITE)
    client = _client_for(client, owner)
    # session, user, membership with its workspace, capabilities, roles + 2 prefetches, messages-free
    with django_assert_num_queries(7):
        response = client.get(_url("matrix", workspace))
    assert response.status_code == 200
    assert len(response.context["custom_roles"]) == count


# --- the editor: who may --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role_key, status",
    [(catalog.ADMIN, 200), (catalog.MEMBER, 403), (catalog.VIEWER, 403), (catalog.BILLING_ADMIN, 403)],
)
def test_editor_pages_need_manage_roles(client, workspace, role_key, status):
    role = _role(workspace)
    client = _client_for(client, add_member(workspace, role_key).user)
    for url in (_url("create", workspace), _url("edit", workspace, role.pk), _url("delete", workspace, role.pk)):
        assert client.get(url).status_code == status, url
    response = client.post(_url("create", workspace), {"name": "X", "scope": "workspace"})
    assert response.status_code in (302, 200) if status == 200 else response.status_code == 403
    response = client.post(_url("delete", workspace, role.pk), {"confirm": "yes"})
    if status == 403:
        assert response.status_code == 403
        assert Role.objects.filter(pk=role.pk).exists()
        assert not Role.objects.filter(name="X").exists()


def test_editor_pages_are_404_for_non_members(client, workspace):
    role = _role(workspace)
    client = _client_for(client, UserFactory())
    for url in (_url("create", workspace), _url("edit", workspace, role.pk), _url("delete", workspace, role.pk)):
        assert client.get(url).status_code == 404
    assert client.post(_url("delete", workspace, role.pk), {"confirm": "yes"}).status_code == 404
    assert Role.objects.filter(pk=role.pk).exists()


def test_another_workspaces_role_ids_are_404(client, workspace, owner):
    foreign = _role(make_workspace(name="Other"), "Theirs")
    client = _client_for(client, owner)
    assert client.get(_url("edit", workspace, foreign.pk)).status_code == 404
    response = client.post(_url("edit", workspace, foreign.pk), {"name": "Hijacked", "scope": "workspace"})
    assert response.status_code == 404
    assert client.post(_url("delete", workspace, foreign.pk), {"confirm": "yes"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


@pytest.mark.parametrize("key", [r.key for r in catalog.BUILTIN_ROLES])
def test_builtin_roles_have_no_editor(client, workspace, owner, key):
    scope = catalog.SITE if key in {r.key for r in catalog.BUILTIN_SITE_ROLES} else catalog.WORKSPACE
    role = builtin_role(key, scope)
    client = _client_for(client, owner)
    assert client.get(_url("edit", workspace, role.pk)).status_code == 404
    assert client.post(_url("edit", workspace, role.pk), {"name": "Mine", "scope": scope}).status_code == 404
    assert client.post(_url("delete", workspace, role.pk), {"confirm": "yes"}).status_code == 404
    assert Role.objects.get(pk=role.pk).name != "Mine"


# --- the editor: what it does ---------------------------------------------------------------------


def test_create_a_workspace_role_keeps_implied_siblings(client, workspace, owner):
    response = _client_for(client, owner).post(
        _url("create", workspace),
        {
            "name": "Growth lead",
            "description": "Runs growth",
            "scope": "workspace",
            "workspace_capabilities": ["view_members", "view_usage"],
            "site_capabilities": ["view_site", "view_dashboards", "view_recordings"],
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(workspace=workspace, name="Growth lead")
    caps, site_caps = role_codes(role)
    assert caps == {"view_workspace", "view_members", "view_usage"}
    assert site_caps == {
        "view_site",
        "view_dashboards",
        "view_shared_dashboards",
        "view_recordings",
        "view_shared_recordings",
    }
    assert AuditEvent.objects.filter(action="role.create").count() == 1


def test_create_a_site_role(client, workspace, owner):
    response = _client_for(client, owner).post(
        _url("create", workspace),
        {"name": "Looker", "scope": "site", "site_capabilities": ["view_site", "view_performance"]},
    )
    assert response.status_code == 302
    role = Role.objects.get(workspace=workspace, name="Looker")
    assert role.scope == catalog.SITE
    assert role_codes(role) == ({"view_site", "view_performance", "view_basic_performance"}, frozenset())


def test_site_role_with_workspace_capabilities_is_refused(client, workspace, owner):
    response = _client_for(client, owner).post(
        _url("create", workspace),
        {
            "name": "Odd",
            "scope": "site",
            "workspace_capabilities": ["view_members"],
            "site_capabilities": ["view_site"],
        },
    )
    assert response.status_code == 200
    assert "site capabilities only" in response.content.decode()
    assert not Role.objects.filter(name="Odd").exists()


def test_manage_owners_is_never_accepted(client, workspace, owner):
    response = _client_for(client, owner).post(
        _url("create", workspace),
        {"name": "Co-owner", "scope": "workspace", "workspace_capabilities": ["manage_owners", "view_members"]},
    )
    assert response.status_code == 200
    assert "manage_owners is not one of the available choices" in response.content.decode()
    assert not Role.objects.filter(name="Co-owner").exists()
    assert not AuditEvent.objects.filter(action="role.create").exists()


def test_admin_cannot_give_capabilities_they_lack(client, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    response = _client_for(client, admin).post(
        _url("create", workspace),
        {"name": "Payer", "scope": "workspace", "workspace_capabilities": ["manage_billing"]},
    )
    assert response.status_code == 200
    assert "You cannot give capabilities you do not hold: manage_billing" in response.content.decode()
    assert not Role.objects.filter(name="Payer").exists()


def test_missing_name_shows_error_and_writes_nothing(client, workspace, owner):
    response = _client_for(client, owner).post(_url("create", workspace), {"name": "", "scope": "workspace"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not Role.objects.filter(workspace=workspace).exists()


def test_edit_form_shows_the_role_ticked(client, workspace, owner):
    role = _role(workspace, caps=("view_usage",), site_caps=("view_dashboards",))
    html = _client_for(client, owner).get(_url("edit", workspace, role.pk)).content.decode()
    assert 'value="view_usage" id="id_workspace_capabilities_view_usage" checked' in html
    assert 'value="view_shared_dashboards" id="id_site_capabilities_view_shared_dashboards" checked' in html
    assert 'value="export_members" id="id_workspace_capabilities_export_members" aria' in html
    assert 'value="manage_owners"' not in html


def test_editing_a_role_changes_holders_access_on_next_check(client, workspace, owner):
    site = make_site(workspace)
    role = _role(workspace, caps=("view_usage",), site_caps=("view_site",))
    holder = add_member(workspace, role).user
    assert Access(holder).has("view_site", site) and not Access(holder).has("export_members", workspace)
    response = _client_for(client, owner).post(
        _url("edit", workspace, role.pk),
        {"name": "Analyst", "workspace_capabilities": ["export_members"], "site_capabilities": []},
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.scope == catalog.WORKSPACE
    fresh = Access(holder)
    assert fresh.has("export_members", workspace)
    assert not fresh.has("view_usage", workspace)
    assert not fresh.has("view_site", site)


def test_edit_cannot_change_the_scope(client, workspace, owner):
    role = _role(workspace)
    _client_for(client, owner).post(
        _url("edit", workspace, role.pk), {"name": "Analyst", "scope": "site", "site_capabilities": ["view_site"]}
    )
    role.refresh_from_db()
    assert role.scope == catalog.WORKSPACE


# --- delete ---------------------------------------------------------------------------------------


def test_delete_asks_then_deletes(client, workspace, owner):
    role = _role(workspace)
    client = _client_for(client, owner)
    response = client.get(_url("delete", workspace, role.pk))
    assert "Delete the role" in response.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()
    response = client.post(_url("delete", workspace, role.pk), {"confirm": "yes"})
    assert response.status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()
    assert AuditEvent.objects.filter(action="role.delete").count() == 1


def test_role_in_use_cannot_be_deleted(client, workspace, owner):
    role = _role(workspace)
    add_member(workspace, role)
    client = _client_for(client, owner)
    assert "1 members" in client.get(_url("delete", workspace, role.pk)).content.decode()
    response = client.post(_url("delete", workspace, role.pk), {"confirm": "yes"})
    assert response.status_code == 200
    assert "is in use (1 members)" in response.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()
    assert not AuditEvent.objects.filter(action="role.delete").exists()


# --- presets ----------------------------------------------------------------------------------------


def test_load_preset_is_post_only_and_needs_manage_roles(client, workspace, owner):
    from permissions.presets import PRESETS

    name = next(iter(PRESETS))
    member_client = _client_for(client, add_member(workspace, catalog.MEMBER).user)
    assert member_client.post(_url("load_preset", workspace), {"preset": name}).status_code == 403
    assert not Role.objects.filter(workspace=workspace).exists()
    owner_client = _client_for(client, owner)
    assert owner_client.get(_url("load_preset", workspace)).status_code == 405
    response = owner_client.post(_url("load_preset", workspace), {"preset": name}, follow=True)
    assert response.status_code == 200
    assert Role.objects.filter(workspace=workspace, preset=name).count() == len(PRESETS[name].roles)
    assert "is loaded" in response.content.decode()
    events = AuditEvent.objects.count()
    owner_client.post(_url("load_preset", workspace), {"preset": name})
    assert AuditEvent.objects.count() == events  # idempotent


def test_load_unknown_preset_changes_nothing(client, workspace, owner):
    response = _client_for(client, owner).post(_url("load_preset", workspace), {"preset": "nope"}, follow=True)
    assert "Choose one of the presets" in response.content.decode()
    assert not Role.objects.filter(workspace=workspace).exists()


def test_preset_refused_when_admin_lacks_capabilities(client, workspace):
    """Preset 002's Admin carries billing, which an Admin does not hold: nothing is written."""
    from permissions.presets import PRESETS

    name = next(n for n, p in PRESETS.items() if p.seed == "002")
    admin = add_member(workspace, catalog.ADMIN).user
    response = _client_for(client, admin).post(_url("load_preset", workspace), {"preset": name}, follow=True)
    assert "was not loaded" in response.content.decode()
    assert not Role.objects.filter(workspace=workspace).exists()
