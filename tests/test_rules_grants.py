"""Rule 3 (docs/RULES.md 1): nobody grants what they do not hold — a workspace role, a site grant or a
custom role. Each refused case is followed by the allowed one it differs from."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import add_member, make_site
from workspaces.models import SiteGrant

MEMBER_CAPS = next(r for r in catalog.BUILTIN_WORKSPACE_ROLES if r.key == catalog.MEMBER).capabilities
SITE_VIEWER_CAPS = next(r for r in catalog.BUILTIN_SITE_ROLES if r.key == catalog.SITE_VIEWER).capabilities


@pytest.fixture
def delegate(workspace):
    """Someone who manages roles, member roles and site access, but holds only the Member's
    workspace capabilities and the Site viewer's on every site."""
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Delegate",
        capabilities=set(MEMBER_CAPS) | {"manage_roles", "change_member_roles", "manage_site_access"},
        site_capabilities=set(SITE_VIEWER_CAPS),
    )
    return add_member(workspace, role).user


def _site_role(key):
    return builtin_role(key, catalog.SITE)


def test_cannot_give_a_workspace_role_beyond_own(workspace, delegate):
    from workspaces.people.services import member_change_role

    # Since the built-in Member holds view_all_analytics, the delegate holds all of the Viewer's
    # capabilities; the Admin's and the Billing admin's (manage_billing) stay beyond them.
    target = add_member(workspace, catalog.VIEWER)
    for key in (catalog.ADMIN, catalog.BILLING_ADMIN):
        with pytest.raises(RuleViolation, match="do not hold"):
            member_change_role(actor=delegate, membership=target, role=builtin_role(key))
    target.refresh_from_db()
    assert target.role.key == catalog.VIEWER
    member_change_role(actor=delegate, membership=target, role=builtin_role(catalog.MEMBER))
    target.refresh_from_db()
    assert target.role.key == catalog.MEMBER


def test_cannot_give_a_custom_role_beyond_own(workspace, owner, delegate):
    from workspaces.people.services import member_change_role

    payer = role_save(
        actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="Payer", capabilities={"manage_billing"}
    )
    target = add_member(workspace, catalog.MEMBER)
    with pytest.raises(RuleViolation, match="manage_billing"):
        member_change_role(actor=delegate, membership=target, role=payer)
    target.refresh_from_db()
    assert target.role.key == catalog.MEMBER


def test_cannot_give_a_site_grant_beyond_own(workspace, delegate):
    from workspaces.sites.services import site_grant_set

    site = make_site(workspace)
    target = add_member(workspace, catalog.MEMBER)
    with pytest.raises(RuleViolation, match="do not hold"):
        site_grant_set(actor=delegate, site=site, membership=target, role=_site_role(catalog.EDITOR))
    with pytest.raises(RuleViolation, match="tag_comments"):
        site_grant_set(
            actor=delegate, site=site, membership=target, role=_site_role(catalog.SITE_VIEWER), extra={"tag_comments"}
        )
    assert not SiteGrant.objects.exists()
    assert not Access(target.user).has("view_site", site)
    site_grant_set(actor=delegate, site=site, membership=target, role=_site_role(catalog.SITE_VIEWER))
    assert Access(target.user).has("view_site", site)


def test_cannot_create_a_custom_role_beyond_own(workspace, delegate):
    events = AuditEvent.objects.count()
    for caps, site_caps in (({"manage_billing"}, set()), (set(), {"delete_site"})):
        with pytest.raises(RuleViolation, match="do not hold"):
            role_save(
                actor=delegate,
                workspace=workspace,
                scope=catalog.WORKSPACE,
                name="Too much",
                capabilities=caps,
                site_capabilities=site_caps,
            )
    with pytest.raises(RuleViolation, match="change_site"):
        role_save(
            actor=delegate, workspace=workspace, scope=catalog.SITE, name="Too much", capabilities={"change_site"}
        )
    assert not Role.objects.filter(name="Too much").exists()
    assert AuditEvent.objects.count() == events
    role_save(actor=delegate, workspace=workspace, scope=catalog.SITE, name="Enough", capabilities={"view_dashboards"})


def test_cannot_widen_an_existing_custom_role_beyond_own(workspace, owner, delegate):
    role = role_save(actor=owner, workspace=workspace, scope=catalog.SITE, name="Looker", capabilities={"view_site"})
    with pytest.raises(RuleViolation, match="export_data"):
        role_save(
            actor=delegate,
            workspace=workspace,
            role=role,
            scope=catalog.SITE,
            name="Looker",
            capabilities={"view_site", "export_data"},
        )
    role.refresh_from_db()
    assert set(role.permissions.values_list("codename", flat=True)) == {"view_site"}


def test_a_grant_on_one_site_does_not_let_anyone_create_roles_with_it(workspace, owner, delegate):
    """Holding a capability on one site (by grant) is not holding it in the workspace."""
    from workspaces.sites.services import site_grant_set

    site = make_site(workspace)
    delegate_membership = delegate.memberships.get(workspace=workspace)
    site_grant_set(actor=owner, site=site, membership=delegate_membership, role=_site_role(catalog.SITE_ADMIN))
    assert Access(delegate).has("export_data", site)
    with pytest.raises(RuleViolation, match="export_data"):
        role_save(
            actor=delegate, workspace=workspace, scope=catalog.SITE, name="Exporter", capabilities={"export_data"}
        )


def test_only_owners_give_the_owner_role(workspace):
    from workspaces.people.services import member_change_role

    admin = add_member(workspace, catalog.ADMIN)
    target = add_member(workspace, catalog.MEMBER)
    with pytest.raises((PermissionDenied, RuleViolation)):
        member_change_role(actor=admin.user, membership=target, role=builtin_role(catalog.OWNER))
    target.refresh_from_db()
    assert target.role.key == catalog.MEMBER
