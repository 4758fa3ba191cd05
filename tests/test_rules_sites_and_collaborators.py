"""Rule 2 (every site has one owner, a member) and who may collaborate on experiences."""

import pytest

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.policy import Access
from tests.factories import add_member, make_experience, make_site, make_workspace
from workspaces.experiences.services import collaborator_add
from workspaces.models import Collaborator, Membership, Site
from workspaces.people.services import member_leave, member_remove


@pytest.fixture
def site_owner(workspace):
    member = add_member(workspace, catalog.MEMBER)
    make_site(workspace, "Shop", owner=member)
    make_site(workspace, "Blog", owner=member)
    return member


def test_removing_a_site_owner_without_successor_is_refused(workspace, owner, site_owner):
    events = AuditEvent.objects.count()
    with pytest.raises(RuleViolation) as refused:
        member_remove(actor=owner, membership=site_owner)
    assert "Blog, Shop" in refused.value.messages[0] or "Shop, Blog" in refused.value.messages[0]
    assert "choose who owns them" in refused.value.messages[0]
    assert Membership.objects.filter(pk=site_owner.pk).exists()
    assert set(Site.objects.values_list("owner_id", flat=True)) == {site_owner.pk}
    assert AuditEvent.objects.count() == events


def test_leaving_site_owner_without_successor_is_refused(workspace, site_owner):
    with pytest.raises(RuleViolation, match="choose who owns them"):
        member_leave(membership=site_owner)
    assert Membership.objects.filter(pk=site_owner.pk).exists()


def test_successor_takes_over_the_sites(workspace, owner, site_owner):
    successor = Membership.objects.get(workspace=workspace, user=owner)
    member_remove(actor=owner, membership=site_owner, site_successor=successor)
    assert not Membership.objects.filter(pk=site_owner.pk).exists()
    assert set(Site.objects.values_list("owner_id", flat=True)) == {successor.pk}
    assert AuditEvent.objects.filter(action="site.owner_change").count() == 2
    assert AuditEvent.objects.filter(action="member.remove").count() == 1


def test_successor_from_another_workspace_is_refused(workspace, owner, site_owner):
    foreign = Membership.objects.get(workspace=make_workspace(name="Other"))
    with pytest.raises(RuleViolation, match="member of this workspace"):
        member_remove(actor=owner, membership=site_owner, site_successor=foreign)
    assert set(Site.objects.filter(workspace=workspace).values_list("owner_id", flat=True)) == {site_owner.pk}


def test_successor_cannot_be_the_leaving_member(workspace, site_owner):
    with pytest.raises(RuleViolation, match="choose who owns them"):
        member_leave(membership=site_owner, site_successor=site_owner)


def test_site_owner_set_refuses_a_foreign_member(workspace, owner):
    from workspaces.sites.services import site_owner_set

    site = make_site(workspace)
    foreign = Membership.objects.get(workspace=make_workspace(name="Other"))
    with pytest.raises(RuleViolation):
        site_owner_set(actor=owner, site=site, owner=foreign)
    site.refresh_from_db()
    assert site.owner.workspace_id == workspace.pk


# --- collaborators ------------------------------------------------------------------------------


@pytest.mark.parametrize("role_key", [catalog.VIEWER, catalog.BILLING_ADMIN])
def test_viewer_and_billing_admin_cannot_collaborate(workspace, owner, role_key):
    experience = make_experience(workspace, creator=owner)
    membership = add_member(workspace, role_key)
    with pytest.raises(RuleViolation, match="only owners, admins and members"):
        collaborator_add(actor=owner, experience=experience, membership=membership)
    assert not Collaborator.objects.filter(membership=membership).exists()
    assert not Access(membership.user).has("change_experience", experience)


@pytest.mark.parametrize("role_key", [catalog.OWNER, catalog.ADMIN, catalog.MEMBER])
def test_owner_admin_member_can_collaborate(workspace, owner, role_key):
    experience = make_experience(workspace, creator=owner)
    if role_key == catalog.OWNER:
        from workspaces.people.services import ownership_transfer

        membership = add_member(workspace, catalog.MEMBER)
        ownership_transfer(actor=owner, workspace=workspace, to=membership)
        membership.refresh_from_db()
    else:
        membership = add_member(workspace, role_key)
    collaborator_add(actor=owner, experience=experience, membership=membership)
    assert Collaborator.objects.filter(membership=membership, experience=experience).exists()
    assert Access(membership.user).has("change_experience", experience)


def test_collaborator_from_another_workspace_is_refused(workspace, owner):
    experience = make_experience(workspace, creator=owner)
    foreign = Membership.objects.get(workspace=make_workspace(name="Other"))
    with pytest.raises(RuleViolation):
        collaborator_add(actor=owner, experience=experience, membership=foreign)
    assert not Collaborator.objects.filter(membership=foreign).exists()
