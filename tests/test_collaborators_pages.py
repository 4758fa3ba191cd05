"""The collaborators page of an experience: who may see it, who may add and remove, whom they may
add (never Viewers or Billing admins), and what a collaborator added here can then do."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_experience, make_workspace, owner_of
from workspaces.experiences.services import collaborator_add
from workspaces.models import Collaborator

pytestmark = pytest.mark.django_db


def index_url(experience):
    return reverse("collaborators:index", args=[experience.workspace.slug, experience.pk])


def add_url(experience):
    return reverse("collaborators:add", args=[experience.workspace.slug, experience.pk])


def remove_url(experience, collaborator):
    return reverse("collaborators:remove", args=[experience.workspace.slug, experience.pk, collaborator.pk])


def edit_url(experience):
    return reverse("workspaces:experience_edit", args=[experience.workspace.slug, experience.pk])


def collaborating(experience) -> set[int]:
    return set(Collaborator.objects.filter(experience=experience).values_list("membership_id", flat=True))


@pytest.fixture
def experience(workspace, owner):
    return make_experience(workspace, creator=owner, title="Spring tour")


@pytest.fixture
def roles(workspace):
    """One member of each role but Owner."""
    keys = (catalog.ADMIN, catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN)
    return {key: add_member(workspace, key) for key in keys}


# --- who is offered ---


def test_owner_is_offered_admins_and_members_only(client, owner, experience, roles):
    client.force_login(owner)
    response = client.get(index_url(experience))
    assert response.status_code == 200
    offered = {choice.value for choice in response.context["member_picker"].choices}
    assert offered == {str(roles[catalog.ADMIN].pk), str(roles[catalog.MEMBER].pk)}
    page = response.content.decode()
    assert f'action="{add_url(experience)}"' in page
    for key in (catalog.VIEWER, catalog.BILLING_ADMIN):
        assert f'value="{roles[key].pk}"' not in page
    # The creator already collaborates: listed, not offered again.
    assert owner.email in page and "Remove" in page


@pytest.mark.parametrize("role_key", [catalog.VIEWER, catalog.BILLING_ADMIN])
def test_viewer_and_billing_admin_are_refused_when_posted(client, owner, experience, roles, role_key):
    client.force_login(owner)
    before = collaborating(experience)
    response = client.post(add_url(experience), {"membership": roles[role_key].pk}, follow=True)
    assert response.status_code == 200
    assert "only owners, admins and members can collaborate" in response.content.decode()
    assert collaborating(experience) == before
    assert not AuditEvent.objects.filter(action="collaborator.add").exclude(actor=None).exists()


def test_missing_choice_gets_a_message_and_changes_nothing(client, owner, experience):
    client.force_login(owner)
    before = collaborating(experience)
    response = client.post(add_url(experience), {"membership": "nobody"}, follow=True)
    assert "Choose the member to add." in response.content.decode()
    assert collaborating(experience) == before


# --- adding and what it gives ---


def test_collaborator_added_on_the_page_can_edit_the_experience(client, owner, experience, roles):
    member = roles[catalog.MEMBER]
    member_client = Client()
    member_client.force_login(member.user)
    assert member_client.get(edit_url(experience)).status_code == 403

    client.force_login(owner)
    response = client.post(add_url(experience), {"membership": member.pk})
    assert response["Location"] == index_url(experience)
    page = client.get(response["Location"]).content.decode()
    assert f"{member.user.display_name} now collaborates on “Spring tour”." in page
    assert member.pk in collaborating(experience)
    events = AuditEvent.objects.filter(action="collaborator.add", actor=owner)
    assert [(e.target_id, e.after) for e in events] == [(str(experience.pk), {"collaborator": member.user.email})]

    assert member_client.get(edit_url(experience)).status_code == 200
    saved = member_client.post(edit_url(experience), {"title": "Summer tour", "description": "", "site": ""})
    assert saved.status_code == 302
    experience.refresh_from_db()
    assert experience.title == "Summer tour"


def test_a_collaborating_member_may_add_another_member(client, workspace, experience, roles):
    member = roles[catalog.MEMBER]
    collaborator_add(actor=None, experience=experience, membership=member)
    colleague = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    response = client.get(index_url(experience))
    assert str(colleague.pk) in {choice.value for choice in response.context["member_picker"].choices}
    client.post(add_url(experience), {"membership": colleague.pk})
    assert colleague.pk in collaborating(experience)


def test_adding_twice_records_one_event(client, owner, experience, roles):
    client.force_login(owner)
    for _ in range(2):
        client.post(add_url(experience), {"membership": roles[catalog.ADMIN].pk})
    assert AuditEvent.objects.filter(action="collaborator.add", actor=owner).count() == 1


# --- who may see and who may change ---


def test_member_who_does_not_collaborate_may_look_but_not_change(client, workspace, owner, experience, roles):
    outsider_member = roles[catalog.MEMBER]
    client.force_login(outsider_member.user)
    # A Member sees every experience (view_all_analytics), so the list opens; changing it is refused.
    assert client.get(index_url(experience)).status_code == 200
    assert client.post(add_url(experience), {"membership": outsider_member.pk}).status_code == 403
    owner_row = Collaborator.objects.get(experience=experience)
    assert client.post(remove_url(experience, owner_row), {"confirm": "yes"}).status_code == 403
    assert collaborating(experience) == {owner_row.membership_id}


def test_viewer_sees_the_list_but_cannot_change_it(client, owner, experience, roles):
    """Viewers hold view_experience on every experience (view_all_analytics), nothing more."""
    viewer = roles[catalog.VIEWER]
    client.force_login(viewer.user)
    response = client.get(index_url(experience))
    assert response.status_code == 200
    assert response.context["can_manage"] is False
    page = response.content.decode()
    assert owner.email in page
    assert "Add a collaborator" not in page and "Remove" not in page
    assert client.post(add_url(experience), {"membership": roles[catalog.MEMBER].pk}).status_code == 403


def test_other_workspaces_answer_404(client, workspace, owner, experience, roles):
    other = make_workspace(UserFactory(), "Other")
    other_experience = make_experience(other, title="Theirs")
    other_member = add_member(other, catalog.MEMBER)
    other_row = Collaborator.objects.get(experience=other_experience)
    client.force_login(owner)
    # Another workspace's experience under this workspace's address.
    wrong = reverse("collaborators:index", args=[workspace.slug, other_experience.pk])
    assert client.get(wrong).status_code == 404
    # A member of another workspace posted here.
    assert client.post(add_url(experience), {"membership": other_member.pk}).status_code == 404
    # A collaborator row of another experience.
    assert client.post(remove_url(experience, other_row), {"confirm": "yes"}).status_code == 404
    assert other_member.pk not in collaborating(experience)
    # Someone outside the workspace.
    client.force_login(owner_of(other))
    assert client.get(index_url(experience)).status_code == 404
    assert client.post(add_url(experience), {"membership": roles[catalog.MEMBER].pk}).status_code == 404


def test_forms_need_the_csrf_token(owner, experience, roles):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(add_url(experience), {"membership": roles[catalog.MEMBER].pk}).status_code == 403
    assert roles[catalog.MEMBER].pk not in collaborating(experience)


# --- removing ---


def test_owner_removes_a_collaborator_who_then_cannot_edit(client, owner, experience, roles):
    member = roles[catalog.MEMBER]
    row = collaborator_add(actor=None, experience=experience, membership=member)
    client.force_login(owner)
    response = client.post(remove_url(experience, row), {"confirm": "yes"})
    assert response["Location"] == index_url(experience)
    assert member.pk not in collaborating(experience)
    events = AuditEvent.objects.filter(action="collaborator.remove", actor=owner)
    assert [e.before for e in events] == [{"collaborator": member.user.email}]
    member_client = Client()
    member_client.force_login(member.user)
    assert member_client.get(edit_url(experience)).status_code == 403


def test_collaborator_who_removes_themselves_goes_back_to_the_workspace(client, workspace, experience):
    # A custom role that collaborates but lacks view_all_analytics: after leaving, the experience is hidden.
    creator = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Creator",
        capabilities={"view_workspace", "add_experience"},
    )
    member = add_member(workspace, creator)
    row = collaborator_add(actor=None, experience=experience, membership=member)
    client.force_login(member.user)
    response = client.post(remove_url(experience, row), {"confirm": "yes"})
    assert response["Location"] == reverse("workspaces:detail", args=[workspace.slug])
    assert client.get(index_url(experience)).status_code == 403


def test_member_who_removes_themselves_still_sees_the_experience_but_cannot_edit(client, experience, roles):
    member = roles[catalog.MEMBER]
    row = collaborator_add(actor=None, experience=experience, membership=member)
    client.force_login(member.user)
    response = client.post(remove_url(experience, row), {"confirm": "yes"})
    assert response["Location"] == index_url(experience)  # view_all_analytics: still visible
    assert client.get(edit_url(experience)).status_code == 403


def test_experience_page_links_to_the_collaborators_page(client, owner, experience):
    client.force_login(owner)
    page = client.get(reverse("workspaces:experience_detail", args=[experience.workspace.slug, experience.pk]))
    assert f'href="{index_url(experience)}"' in page.content.decode()


# --- cost ---

# session, user, membership with its workspace, experience, experience permissions, workspace
# permissions, a page of collaborators with their users, roles and adders (count, rows), the member
# picker's first matches with users and roles
PAGE_QUERIES = 9


@pytest.mark.parametrize("size", [5, 300])
def test_page_query_count_does_not_grow(client, workspace, owner, experience, django_assert_num_queries, size):
    members = [add_member(workspace, catalog.MEMBER) for _ in range(size)]
    for membership in members[: size // 2]:
        collaborator_add(actor=None, experience=experience, membership=membership)
    client.force_login(owner)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(index_url(experience))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('aria-label="Remove ') == min(size // 2 + 1, 50)
    assert response.context["collaborators"].paginator.count == size // 2 + 1
    assert len(response.context["member_picker"].choices) == min(size - size // 2, 20)
