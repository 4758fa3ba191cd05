from permissions import catalog
from permissions.policy import Access
from tests.factories import add_member, make_experience, make_site


def test_owner_holds_everything_member_little(workspace, owner):
    site = make_site(workspace)
    member = add_member(workspace, catalog.MEMBER)
    viewer = add_member(workspace, catalog.VIEWER)
    exp = make_experience(workspace, creator=member.user)
    assert owner.has_perm("workspaces.invite_members", workspace)
    assert Access(owner).perms(site) == frozenset(catalog.codenames(catalog.SITE))
    assert Access(member.user).perms(site) == frozenset()
    assert Access(viewer.user).perms(site) == catalog.SITE_VIEW_CAPABILITIES
    assert Access(member.user).perms(exp) == catalog.COLLABORATOR_CAPABILITIES
    assert Access(viewer.user).perms(exp) == {"view_experience", "view_experience_analytics"}
    assert Access(owner).perms(exp) == frozenset(catalog.codenames(catalog.EXPERIENCE))


def test_filter_visible_sites_and_user_delete_keeps_audit(workspace, owner):
    from audit.models import AuditEvent
    from workspaces.models import Site
    from workspaces.overview.services import workspace_delete

    make_site(workspace, "One")
    make_site(workspace, "Two")
    viewer = add_member(workspace, catalog.VIEWER)
    member = add_member(workspace, catalog.MEMBER)
    sites = Site.objects.filter(workspace=workspace)
    assert Access(viewer.user).filter("view_site", sites).count() == 2
    assert Access(member.user).filter("view_site", sites).count() == 0
    events = AuditEvent.objects.count()
    workspace_delete(actor=owner, workspace=workspace)
    assert AuditEvent.objects.count() == events + 1
    owner.delete()
    assert AuditEvent.objects.filter(actor__isnull=True, actor_email=owner.email).exists()


def test_workspace_delete_with_custom_roles_in_use(workspace, owner):
    from permissions.models import Role
    from permissions.roles import permissions_for
    from workspaces.models import Workspace
    from workspaces.overview.services import workspace_delete

    role = Role.objects.create(workspace=workspace, scope=catalog.WORKSPACE, key="analyst", name="Analyst")
    role.permissions.set(permissions_for(catalog.WORKSPACE, {"view_workspace"}))
    add_member(workspace, role)
    make_site(workspace, "One")
    workspace_delete(actor=owner, workspace=workspace)
    assert not Workspace.objects.exists()
