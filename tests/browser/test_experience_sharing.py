"""Experiences in a real browser: an owner makes a member a collaborator, who then edits the
experience; an outside viewer opens a restricted published experience through the e-mailed link."""

import pytest
from playwright.sync_api import expect

from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_workspace, viewer_group_member_add
from workspaces.experiences.services import experience_publish, experience_update
from workspaces.models import Collaborator, ViewerLink
from workspaces.viewer_groups.services import viewer_group_create

from .conftest import link_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_collaborator_who_then_edits_the_experience(page, screenshot):
    owner = UserFactory(email="olivia@acme.test", full_name="Olivia Owner")
    workspace = make_workspace(owner, "Acme")
    experience = make_experience(workspace, creator=owner, title="Spring tour")
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="max@acme.test", full_name="Max Member"))
    add_member(workspace, catalog.VIEWER, user=UserFactory(email="vera@acme.test", full_name="Vera Viewer"))

    sign_in(page, owner.email)
    page.goto(f"/w/{workspace.slug}/experiences/{experience.pk}/")
    page.get_by_role("link", name="Manage collaborators").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collaborators of Spring tour")
    choices = page.get_by_role("group", name="Member", exact=True)
    # Only people who may collaborate are offered: the Viewer is not.
    expect(choices.get_by_role("radio")).to_have_count(1)
    choices.get_by_role("radio", name="Max Member").check()
    page.get_by_role("button", name="Add collaborator").click()
    expect(page.get_by_role("status")).to_contain_text("Max Member now collaborates on “Spring tour”.")
    expect(page.get_by_role("table")).to_contain_text("max@acme.test")
    screenshot(page, "experience-collaborators")
    assert Collaborator.objects.filter(experience=experience, membership=member).exists()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, member.user.email)
    page.goto(f"/w/{workspace.slug}/experiences/{experience.pk}/")
    page.get_by_role("link", name="Edit experience").click()
    page.get_by_label("Title").fill("Summer tour")
    page.get_by_role("button", name="Save experience").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Summer tour")
    expect(page.get_by_role("status")).to_contain_text("The experience “Summer tour” is saved.")
    experience.refresh_from_db()
    assert experience.title == "Summer tour"


def test_outside_viewer_opens_a_restricted_experience_through_the_emailed_link(page, latest_email, screenshot):
    owner = UserFactory()
    workspace = make_workspace(owner, "Acme")
    experience = make_experience(workspace, creator=owner, title="Launch film")
    experience_update(actor=owner, experience=experience, content="The film premieres on Friday.")
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_member_add(actor=owner, group=group, email="reporter@news.example")
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])

    page.goto(f"/p/{experience.public_token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Launch film")
    expect(page.get_by_text("The film premieres on Friday.")).to_have_count(0)
    page.get_by_label("Your e-mail address").fill("Reporter@News.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("a link to open it is on its way")

    link = link_in(latest_email(to="reporter@news.example"))
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Open Launch film")
    assert ViewerLink.objects.get().used_at is None  # opening the link alone uses nothing
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Launch film")
    expect(page.get_by_text("The film premieres on Friday.")).to_be_visible()
    screenshot(page, "experience-public-restricted")
    assert ViewerLink.objects.get().used_at is not None

    # The link works once: opened again, it explains.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link was already used")
