"""Experience pages: create, view, edit, publish, unpublish, delete; who sees which experience."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_site, make_workspace
from workspaces.models import Experience, ViewerGroup
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db


def url(name, workspace, experience=None):
    args = [workspace.slug] + ([experience.pk] if experience is not None else [])
    return reverse(f"workspaces:{name}", args=args)


@pytest.fixture
def member(workspace):
    return add_member(workspace, catalog.MEMBER)


# --- create ---


def test_member_creates_an_experience_and_collaborates_on_it(client, workspace, member):
    site = make_site(workspace, "Shop")
    site_grant_set(actor=None, site=site, role=builtin_role("site_viewer", catalog.SITE), membership=member)
    client.force_login(member.user)
    page = client.get(url("detail", workspace)).content.decode()
    assert "New experience" in page
    form = client.get(url("experience_create", workspace))
    assert list(form.context["form"].fields["site"].queryset) == [site]

    response = client.post(
        url("experience_create", workspace), {"title": "Spring sale", "description": "Banner", "site": site.pk}
    )
    experience = Experience.objects.get()
    assert response["Location"] == url("experience_detail", workspace, experience)
    assert (experience.title, experience.site, experience.status) == ("Spring sale", site, "draft")
    assert [c.membership for c in experience.collaborations.all()] == [member]
    detail = client.get(response["Location"]).content.decode()
    assert member.user.display_name in detail and "Draft" in detail


def test_site_choices_are_only_sites_i_can_see_in_this_workspace(client, workspace, member):
    hidden = make_site(workspace, "Hidden")
    other_site = make_site(make_workspace(UserFactory(), "Other"), "Other shop")
    client.force_login(member.user)
    for site in (hidden, other_site):
        response = client.post(url("experience_create", workspace), {"title": "Sneaky", "site": site.pk})
        assert response.status_code == 200
        assert "Select a valid choice." in response.content.decode()
    assert not Experience.objects.exists()


def test_create_bad_input_and_refusals(client, workspace, member):
    client.force_login(member.user)
    response = client.post(url("experience_create", workspace), {"title": "  "})
    assert "Give the experience a title." in response.content.decode()
    viewer = add_member(workspace, catalog.VIEWER)
    client.force_login(viewer.user)
    assert "New experience" not in client.get(url("detail", workspace)).content.decode()
    assert client.post(url("experience_create", workspace), {"title": "Nope"}).status_code == 403
    assert not Experience.objects.exists()


# --- who sees what ---


def creator_without_analytics(workspace):
    """A custom role that creates experiences but lacks view_all_analytics (a built-in Member has it)."""
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Creator",
        capabilities={"view_workspace", "add_experience"},
    )
    return add_member(workspace, role)


def test_a_collaborator_without_view_all_analytics_sees_only_their_experiences(client, workspace, owner):
    member = creator_without_analytics(workspace)
    make_experience(workspace, creator=owner, title="Owner's draft")
    own = make_experience(workspace, creator=member.user, title="My draft")
    client.force_login(member.user)
    response = client.get(url("detail", workspace))
    assert [e.title for e in response.context["experiences"]] == ["My draft"]
    page = response.content.decode()
    assert "Owner&#x27;s draft" not in page and "Owner's draft" not in page
    assert url("experience_detail", workspace, own) in page
    hidden = Experience.objects.get(title="Owner's draft")
    assert client.get(url("experience_detail", workspace, hidden)).status_code == 403


def test_member_sees_every_experience_and_edits_only_their_own(client, workspace, owner, member):
    """Seed 003: a member can do everything an analytics user can (view_all_analytics)."""
    other = make_experience(workspace, creator=owner, title="Owner's draft")
    own = make_experience(workspace, creator=member.user, title="My draft")
    client.force_login(member.user)
    response = client.get(url("detail", workspace))
    assert sorted(e.title for e in response.context["experiences"]) == ["My draft", "Owner's draft"]
    assert client.get(url("experience_detail", workspace, other)).status_code == 200
    assert client.get(url("experience_edit", workspace, other)).status_code == 403
    assert client.get(url("experience_edit", workspace, own)).status_code == 200


def test_detail_shows_collaborators_and_only_allowed_controls(client, workspace, owner, member):
    experience = make_experience(workspace, creator=member.user, title="Launch")
    client.force_login(member.user)
    page = client.get(url("experience_detail", workspace, experience)).content.decode()
    assert "<h1>Launch</h1>" in page
    assert member.user.email in page
    assert "Edit experience" in page and "Publish" in page
    assert "Delete experience" not in page  # only change_all_experiences brings delete
    client.force_login(owner)
    assert "Delete experience" in client.get(url("experience_detail", workspace, experience)).content.decode()


# --- edit ---


def test_edit_keeps_a_site_the_editor_cannot_see(client, workspace, member):
    site = make_site(workspace, "Shop")
    experience = make_experience(workspace, creator=member.user, title="Launch")
    Experience.objects.filter(pk=experience.pk).update(site=site)  # set up state a member cannot reach
    client.force_login(member.user)
    form = client.get(url("experience_edit", workspace, experience)).context["form"]
    assert form.initial["site"] == site.pk
    response = client.post(
        url("experience_edit", workspace, experience), {"title": "Launch v2", "description": "", "site": site.pk}
    )
    assert response.status_code == 302
    experience.refresh_from_db()
    assert (experience.title, experience.site) == ("Launch v2", site)
    assert AuditEvent.objects.filter(action="experience.update").count() == 1


def test_edit_refused_for_a_non_collaborator_and_bad_input(client, workspace, owner, member):
    experience = make_experience(workspace, creator=owner, title="Launch")
    client.force_login(member.user)
    assert client.post(url("experience_edit", workspace, experience), {"title": "Mine now"}).status_code == 403
    client.force_login(owner)
    response = client.post(url("experience_edit", workspace, experience), {"title": ""})
    assert "Give the experience a title." in response.content.decode()
    experience.refresh_from_db()
    assert experience.title == "Launch"
    assert not AuditEvent.objects.filter(action="experience.update").exists()


# --- publish ---


def test_publish_public_then_unpublish(client, workspace, member):
    experience = make_experience(workspace, creator=member.user, title="Launch")
    client.force_login(member.user)
    response = client.post(url("experience_publish", workspace, experience), {"visibility": "public"})
    assert response.status_code == 302
    experience.refresh_from_db()
    assert (experience.status, experience.visibility) == ("published", "public")
    assert experience.published_at is not None
    assert "Unpublish" in client.get(url("experience_detail", workspace, experience)).content.decode()
    client.post(url("experience_unpublish", workspace, experience), {"confirm": "yes"})
    experience.refresh_from_db()
    assert experience.status == "draft"
    assert AuditEvent.objects.filter(action__in=["experience.publish", "experience.unpublish"]).count() == 2


def test_publish_restricted_needs_a_viewer_group_of_this_workspace(client, workspace, member):
    experience = make_experience(workspace, creator=member.user, title="Launch")
    partners = ViewerGroup.objects.create(workspace=workspace, name="Partners")
    foreign = ViewerGroup.objects.create(workspace=make_workspace(UserFactory(), "Other"), name="Theirs")
    client.force_login(member.user)

    response = client.post(url("experience_publish", workspace, experience), {"visibility": "restricted"})
    assert response.status_code == 200
    assert "A restricted experience needs at least one viewer group." in response.content.decode()
    response = client.post(
        url("experience_publish", workspace, experience), {"visibility": "restricted", "viewer_groups": [foreign.pk]}
    )
    assert "Select a valid choice." in response.content.decode()
    experience.refresh_from_db()
    assert (experience.status, experience.visibility) == ("draft", "public")
    assert not experience.viewer_groups.exists()
    assert not AuditEvent.objects.filter(action="experience.publish").exists()

    response = client.post(
        url("experience_publish", workspace, experience), {"visibility": "restricted", "viewer_groups": [partners.pk]}
    )
    assert response.status_code == 302
    experience.refresh_from_db()
    assert (experience.status, experience.visibility) == ("published", "restricted")
    assert list(experience.viewer_groups.all()) == [partners]


def test_publish_refused_for_a_viewer(client, workspace, member):
    experience = make_experience(workspace, creator=member.user, title="Launch")
    viewer = add_member(workspace, catalog.VIEWER)
    client.force_login(viewer.user)
    assert client.get(url("experience_detail", workspace, experience)).status_code == 200
    assert client.post(url("experience_publish", workspace, experience), {"visibility": "public"}).status_code == 403
    assert client.post(url("experience_unpublish", workspace, experience), {"confirm": "yes"}).status_code == 403
    experience.refresh_from_db()
    assert experience.status == "draft"


# --- delete ---


def test_delete_needs_delete_experience_and_confirmation(client, workspace, owner, member):
    experience = make_experience(workspace, creator=member.user, title="Launch")
    client.force_login(member.user)
    assert client.post(url("experience_delete", workspace, experience), {"confirm": "yes"}).status_code == 403
    client.force_login(owner)
    assert "Delete Launch?" in client.get(url("experience_delete", workspace, experience)).content.decode()
    assert Experience.objects.filter(pk=experience.pk).exists()
    response = client.post(url("experience_delete", workspace, experience), {"confirm": "yes"})
    assert response["Location"] == url("detail", workspace)
    assert not Experience.objects.filter(pk=experience.pk).exists()
    assert AuditEvent.objects.filter(action="experience.delete").count() == 1
