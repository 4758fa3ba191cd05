"""Loading presets: data validity, the check API agrees with every role's data, idempotence,
rule 3 for the loading actor, all-or-nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from permissions.presets import PRESETS, Preset, RoleSpec, load_preset, preset_problems
from permissions.roles import role_codes
from permissions.services import role_save
from tests.factories import add_member, make_site
from tests.presets.support import CheckApi, email_for, grant, member

SEED_ORDER = [
    "seed-000-product-areas",
    "seed-001-account-data-source",
    "seed-002-organization",
    "seed-003-workspace-experiences",
    "seed-004-organization-access",
]


def _stored(workspace) -> dict:
    """The workspace's custom roles as comparable data."""
    return {
        (role.pk, role.scope, role.key, role.name, role.description, role.preset, *role_codes(role))
        for role in Role.objects.filter(workspace=workspace)
    }


def _events(workspace) -> int:
    return AuditEvent.objects.filter(workspace=workspace).count()


def test_one_preset_per_seed_in_seed_order():
    assert list(PRESETS) == SEED_ORDER
    assert [preset.seed for preset in PRESETS.values()] == ["000", "001", "002", "003", "004"]


def test_unknown_preset_is_refused_with_the_list_of_names(workspace, owner):
    with pytest.raises(RuleViolation) as refused:
        load_preset(actor=owner, workspace=workspace, name="seed-999")
    assert all(name in refused.value.messages[0] for name in SEED_ORDER)
    assert not Role.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize("name", SEED_ORDER)
def test_loaded_roles_match_the_preset_data(workspace, owner, name):
    roles = load_preset(actor=owner, workspace=workspace, name=name)
    specs = PRESETS[name].roles
    assert [(r.scope, r.key, r.name, r.preset) for r in roles] == [(s.scope, s.key, s.name, name) for s in specs]
    assert [role_codes(r) for r in roles] == [(s.capabilities, s.site_capabilities) for s in specs]


@pytest.mark.parametrize("name", SEED_ORDER)
def test_the_check_api_answers_each_role_exactly(client, workspace, owner, name):
    """Through GET/POST /api/v1/check: a person with each workspace role holds exactly its
    capabilities in the workspace and its site capabilities on a site; a person granted each site
    role holds exactly its capabilities on that site and nothing on another."""
    roles = load_preset(actor=owner, workspace=workspace, name=name)
    shop, blog = make_site(workspace, "Shop"), make_site(workspace, "Blog")
    api = CheckApi(client, workspace)
    for role in roles:
        caps, site_caps = role_codes(role)
        if role.scope == catalog.WORKSPACE:
            person = member(workspace, role, email_for(role.key))
            assert api.held(person.user, catalog.WORKSPACE) == caps, role.key
            assert api.held(person.user, catalog.SITE, site=shop) == site_caps, role.key
        else:
            person = add_member(workspace, catalog.MEMBER)
            grant(shop, person, role)
            assert api.held(person.user, catalog.SITE, site=shop) == caps, role.key
            assert api.held(person.user, catalog.SITE, site=blog) == set(), role.key


@pytest.mark.parametrize("name", SEED_ORDER)
def test_loading_twice_changes_nothing(workspace, owner, name):
    load_preset(actor=owner, workspace=workspace, name=name)
    stored, events = _stored(workspace), _events(workspace)
    assert events > 0  # the first load was recorded
    load_preset(actor=owner, workspace=workspace, name=name)
    assert _stored(workspace) == stored
    assert _events(workspace) == events


def test_first_load_records_one_event_per_role(workspace, owner):
    before = _events(workspace)
    load_preset(actor=owner, workspace=workspace, name="seed-001-account-data-source")
    created = AuditEvent.objects.filter(workspace=workspace, action="role.create")
    assert _events(workspace) - before == created.count() == len(PRESETS["seed-001-account-data-source"].roles)


def test_reloading_repairs_an_edited_role_with_one_event(workspace, owner):
    (editor,) = [
        r for r in load_preset(actor=owner, workspace=workspace, name="seed-000-product-areas") if r.name == "Editor"
    ]
    role_save(
        actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="Editor", key=editor.key, capabilities=set()
    )
    assert role_codes(Role.objects.get(pk=editor.pk))[1] == frozenset()
    events = _events(workspace)
    load_preset(actor=owner, workspace=workspace, name="seed-000-product-areas")
    assert role_codes(Role.objects.get(pk=editor.pk)) == (
        PRESETS["seed-000-product-areas"].roles[1].capabilities,
        PRESETS["seed-000-product-areas"].roles[1].site_capabilities,
    )
    assert _events(workspace) == events + 1


def test_all_presets_live_side_by_side(workspace, owner):
    for name in SEED_ORDER:
        load_preset(actor=owner, workspace=workspace, name=name)
    assert Role.objects.filter(workspace=workspace).count() == sum(len(p.roles) for p in PRESETS.values())


# --- who may load --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEED_ORDER)
def test_an_owner_can_load_every_preset(workspace, owner, name):
    assert len(load_preset(actor=owner, workspace=workspace, name=name)) == len(PRESETS[name].roles)


@pytest.mark.parametrize(
    "name, lacking",
    [
        ("seed-000-product-areas", "manage_billing"),  # 000's Admin manages billing
        ("seed-002-organization", "manage_billing"),  # 002's Admin adds billing, SSO, deletion
    ],
)
def test_an_admin_cannot_load_roles_above_their_own(workspace, name, lacking):
    """Rule 3: a custom role may carry only what the actor holds; nothing is written."""
    admin = add_member(workspace, catalog.ADMIN).user
    events = _events(workspace)
    with pytest.raises(RuleViolation) as refused:
        load_preset(actor=admin, workspace=workspace, name=name)
    assert lacking in refused.value.messages[0]
    assert not Role.objects.filter(workspace=workspace).exists()
    assert _events(workspace) == events


@pytest.mark.parametrize(
    "name", ["seed-001-account-data-source", "seed-003-workspace-experiences", "seed-004-organization-access"]
)
def test_an_admin_can_load_presets_within_their_own_role(workspace, name):
    admin = add_member(workspace, catalog.ADMIN).user
    assert len(load_preset(actor=admin, workspace=workspace, name=name)) == len(PRESETS[name].roles)


def test_a_member_without_manage_roles_is_refused(workspace):
    person = add_member(workspace, catalog.MEMBER).user
    with pytest.raises(PermissionDenied):
        load_preset(actor=person, workspace=workspace, name="seed-003-workspace-experiences")
    assert not Role.objects.filter(workspace=workspace).exists()


def test_all_or_nothing_when_a_later_role_is_refused(workspace, owner):
    """004's Read Only is within the actor's role but Read & Write is not: Read Only is not kept."""
    manager_role = role_save(
        actor=owner,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Role manager",
        capabilities={"view_workspace", "view_members", "manage_roles"},
        site_capabilities=PRESETS["seed-004-organization-access"].roles[0].site_capabilities,
    )
    manager = member(workspace, manager_role, "manager@acme.test").user
    events = _events(workspace)
    with pytest.raises(RuleViolation):
        load_preset(actor=manager, workspace=workspace, name="seed-004-organization-access")
    assert list(Role.objects.filter(workspace=workspace)) == [manager_role]
    assert _events(workspace) == events


# --- data validation at import -------------------------------------------------------------------


def test_every_preset_is_valid():
    assert [problem for preset in PRESETS.values() for problem in preset_problems(preset)] == []


def test_validation_names_each_kind_of_problem():
    bad = Preset(
        name="bad",
        seed="999",
        title="Bad",
        description="",
        roles=(
            RoleSpec("a", "A", catalog.WORKSPACE, "", frozenset({"view_workspace", "no_such_thing"})),
            RoleSpec("b", "B", catalog.WORKSPACE, "", frozenset({"view_workspace", "view_site"})),
            RoleSpec("c", "C", catalog.WORKSPACE, "", frozenset({"view_workspace", "manage_owners"})),
            RoleSpec("d", "D", catalog.WORKSPACE, "", frozenset({"view_workspace"}), frozenset({"view_dashboards"})),
            RoleSpec("e", "E", catalog.SITE, "", frozenset({"view_site"}), frozenset({"view_site"})),
            RoleSpec("e", "E again", catalog.SITE, "", frozenset({"view_site"})),
            RoleSpec("f", "F", catalog.WORKSPACE, "", frozenset()),
        ),
    )
    problems = " | ".join(preset_problems(bad))
    for expected in (
        "two roles share a key",
        "'no_such_thing' is not a workspace capability",
        "'view_site' is not a workspace capability",
        "never hold ['manage_owners']",
        "bad d: a full view capability lacks its limited sibling",
        "bad e: a site role has no site capabilities on every site",
        "bad f: a workspace role must open the workspace",
    ):
        assert expected in problems
