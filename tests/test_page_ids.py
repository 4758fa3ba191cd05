"""Every id on a page is used once and every label's ``for`` names an element of the page, so each
label names its own field (the people page has two forms with a role field: the search's and the
invitation's)."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team
from workspaces.invites.services import invite_create
from workspaces.models import JoinRequest, Membership

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])


def assert_ids_are_sound(html: str) -> None:
    parser = _Ids()
    parser.feed(html)
    repeated = [name for name, count in Counter(parser.ids).items() if count > 1]
    assert not repeated, f"ids used more than once: {repeated}"
    dangling = [target for target in parser.label_targets if target not in parser.ids]
    assert not dangling, f"labels for no element: {dangling}"


@pytest.fixture
def busy(workspace, owner):
    """A workspace whose pages show every form: members (one owning a site), a team, an invitation,
    a join request, and the owner's own site (the leave form's successor field)."""
    make_team(workspace, "Growth")
    ann = add_member(workspace, catalog.MEMBER, user=UserFactory(full_name="Ann"))
    make_site(workspace, "Shop", owner=ann)
    make_site(workspace, "Blog", owner=Membership.objects.get(workspace=workspace, user=owner))
    add_member(workspace, catalog.OWNER)  # so the owner may leave
    invite_create(
        actor=owner, workspace=workspace, emails=["new@x.test"], role=builtin_role(catalog.VIEWER), send_email=False
    )
    JoinRequest.objects.create(workspace=workspace, user=UserFactory(email="asker@corp.test"))
    return workspace


@pytest.mark.parametrize(
    "name", ["people:index", "workspaces:detail", "workspaces:site_list", "teams:index", "settings:ip_blocking"]
)
def test_ids_are_unique_and_labels_name_their_fields(client, busy, owner, name):
    client.force_login(owner)
    response = client.get(reverse(name, args=[busy.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert_ids_are_sound(html)


def test_the_people_page_has_one_role_field_per_form(client, busy, owner):
    client.force_login(owner)
    html = client.get(reverse("people:index", args=[busy.slug])).content.decode()
    assert '<label for="filter_role">Role</label>' in html
    assert '<label for="id_role">Workspace role</label>' in html
