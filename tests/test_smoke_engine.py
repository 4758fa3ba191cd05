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
