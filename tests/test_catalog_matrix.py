"""The built-in roles, cell by cell, generated from the catalog.

Each (role, capability, object) cell is its own test id. The expected answer is read from
``permissions.catalog`` (docs/RULES.md 2.3); the actual answer is asked of the engine twice: through
``Access`` and through ``user.has_perm`` (guardian's object backend). The world is built once per
module, every answer is collected, and the transaction is rolled back before any cell is checked,
so the module is fast and leaves nothing behind.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from permissions import catalog
from permissions.policy import Access
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.experiences.services import collaborator_add, experience_create
from workspaces.sites.services import site_grant_set

# The cells read answers collected by a module fixture; the mark makes pytest-django create the test
# database that fixture needs.
pytestmark = pytest.mark.django_db

WORKSPACE_ROLES = {spec.key: spec for spec in catalog.BUILTIN_WORKSPACE_ROLES}
SITE_ROLES = {spec.key: spec for spec in catalog.BUILTIN_SITE_ROLES}


def expected_for_workspace_role(spec: catalog.BuiltinRole, scope: str, codename: str, collaborator=False) -> bool:
    if scope == catalog.WORKSPACE:
        return codename in spec.capabilities
    if scope == catalog.SITE:
        return codename in spec.site_capabilities
    held = catalog.experience_capabilities_from(spec.capabilities)
    if collaborator:
        held |= catalog.COLLABORATOR_CAPABILITIES
    return codename in held


def _answers(user, objects: dict) -> dict:
    """{(object name, codename): (Access answer, has_perm answer)} for every capability of each object."""
    access = Access(user)
    found = {}
    for name, obj in objects.items():
        held = access.perms(obj)
        for codename in catalog.codenames(access_scope(obj)):
            found[(name, codename)] = (codename in held, user.has_perm(f"workspaces.{codename}", obj))
    return found


def access_scope(obj) -> str:
    from permissions.policy import scope_of

    return scope_of(obj)


@pytest.fixture(scope="module")
def answers(django_db_setup, django_db_blocker):
    """Build the world, ask every question, roll everything back."""
    with django_db_blocker.unblock(), transaction.atomic():
        owner = UserFactory()
        workspace = make_workspace(owner, "Matrix")
        users = {catalog.OWNER: owner}
        for key in WORKSPACE_ROLES:
            if key != catalog.OWNER:
                users[key] = add_member(workspace, key).user
        site = make_site(workspace, "Shop")
        ungranted_site = make_site(workspace, "Elsewhere")
        # Made by the system, so nobody is its collaborator.
        plain = experience_create(actor=None, workspace=workspace, title="Nobody's")
        shared = experience_create(actor=None, workspace=workspace, title="Shared")
        for key in catalog.COLLABORATOR_ROLES:
            collaborator_add(actor=None, experience=shared, membership=users[key].memberships.get())
        found = {
            ("workspace role", key): _answers(
                user, {catalog.WORKSPACE: workspace, catalog.SITE: site, catalog.EXPERIENCE: plain, "shared": shared}
            )
            for key, user in users.items()
        }
        for key in SITE_ROLES:
            membership = add_member(workspace, catalog.MEMBER)
            site_grant_set(actor=None, site=site, membership=membership, role=builtin_role(key, catalog.SITE))
            found[("site role", key)] = _answers(membership.user, {"granted": site, "ungranted": ungranted_site})
        transaction.set_rollback(True)
    return found


WORKSPACE_ROLE_CELLS = [
    pytest.param(key, scope, codename, id=f"{key}-{scope}-{codename}")
    for key in WORKSPACE_ROLES
    for scope in catalog.SCOPES
    for codename in catalog.codenames(scope)
]


@pytest.mark.parametrize("key, scope, codename", WORKSPACE_ROLE_CELLS)
def test_workspace_role_cell(answers, key, scope, codename):
    expected = expected_for_workspace_role(WORKSPACE_ROLES[key], scope, codename)
    via_access, via_guardian = answers[("workspace role", key)][(scope, codename)]
    assert via_access is expected, f"Access: {key} {'should' if expected else 'should not'} hold {codename}"
    assert via_guardian is expected, f"has_perm: {key} {'should' if expected else 'should not'} hold {codename}"


COLLABORATOR_CELLS = [
    pytest.param(key, codename, id=f"{key}-collaborator-{codename}")
    for key in WORKSPACE_ROLES
    if key in catalog.COLLABORATOR_ROLES
    for codename in catalog.codenames(catalog.EXPERIENCE)
]


@pytest.mark.parametrize("key, codename", COLLABORATOR_CELLS)
def test_collaborator_cell(answers, key, codename):
    expected = expected_for_workspace_role(WORKSPACE_ROLES[key], catalog.EXPERIENCE, codename, collaborator=True)
    assert answers[("workspace role", key)][("shared", codename)] == (expected, expected)


SITE_ROLE_CELLS = [
    pytest.param(key, codename, id=f"{key}-{codename}")
    for key in SITE_ROLES
    for codename in catalog.codenames(catalog.SITE)
]


@pytest.mark.parametrize("key, codename", SITE_ROLE_CELLS)
def test_site_role_cell(answers, key, codename):
    """A Member (no site capability of their own) with a grant of this site role on the site."""
    expected = codename in SITE_ROLES[key].capabilities
    assert answers[("site role", key)][("granted", codename)] == (expected, expected)


@pytest.mark.parametrize("key", SITE_ROLES)
def test_site_role_reaches_only_its_site(answers, key):
    held = {code for (obj, code), (yes, _) in answers[("site role", key)].items() if obj == "ungranted" and yes}
    assert held == set()


def test_every_catalog_capability_is_covered():
    """The generated cells follow the catalog: a new capability gets its cells without editing here."""
    per_role = sum(len(catalog.codenames(scope)) for scope in catalog.SCOPES)
    assert len(WORKSPACE_ROLE_CELLS) == len(WORKSPACE_ROLES) * per_role
    assert len(SITE_ROLE_CELLS) == len(SITE_ROLES) * len(catalog.codenames(catalog.SITE))
