"""Pickers start at "Choose…", never at the most powerful choice, and owners are never offered as
new owners. From the refused side: a form sent as it was shown gives nobody anything."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team
from workspaces.models import Collaborator, Invite, JoinDomain, Membership, SiteGrant
from workspaces.people.forms import TransferForm
from workspaces.people.services import ownership_transfer

pytestmark = pytest.mark.django_db


def page(client, user, path) -> str:
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert found, name
    return found.group(1)


def assert_no_radio_checked(html: str, name: str) -> None:
    """A picker's matches (radio buttons) are offered with none of them chosen."""
    radios = re.findall(rf'<input[^>]*type="radio"[^>]*name="{re.escape(name)}"[^>]*>', html)
    radios += re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*type="radio"[^>]*>', html)
    assert radios, name
    assert not any(" checked" in radio for radio in radios), radios


def assert_starts_unchosen(options: str) -> None:
    """The first option is the empty "Choose…", and no other option is selected."""
    assert re.match(r'\s*<option value=""[^>]*>Choose…</option>', options), options[:200]
    assert " selected" not in options.split("</option>", 1)[1]


def test_site_access_role_picker_starts_unchosen_and_a_blank_choice_gives_nothing(client, workspace, owner):
    site = make_site(workspace, "Shop")
    member = add_member(workspace, catalog.MEMBER)
    html = page(client, owner, reverse("site_access:index", args=[workspace.slug, site.slug]))
    assert_starts_unchosen(select(html, "grant-role"))
    assert_no_radio_checked(html, "grant-grantee")
    client.post(
        reverse("site_access:grant_set", args=[workspace.slug, site.slug]),
        {"grant-grantee": f"m{member.pk}", "grant-role": ""},
    )
    assert not SiteGrant.objects.filter(site=site).exists()


def test_team_grant_pickers_start_unchosen(client, workspace, owner):
    make_site(workspace, "Shop")
    team = make_team(workspace)
    html = page(client, owner, reverse("teams:detail", args=[workspace.slug, team.pk]))
    assert_starts_unchosen(select(html, "grant-site"))
    assert_starts_unchosen(select(html, "grant-role"))
    # A member is added by typing their address: nobody is chosen for the owner.
    assert re.search(r'<input[^>]*name="[^"]*email[^"]*"[^>]*>', html)


def test_invitation_role_starts_unchosen_and_is_required(client, workspace, owner):
    make_site(workspace, "Shop")
    html = page(client, owner, reverse("people:index", args=[workspace.slug]))
    html = html[html.index('class="invite-form"') :]  # the search form above has a role filter too
    assert_starts_unchosen(select(html, "role"))
    assert_starts_unchosen(select(html, "site_role_1"))
    response = client.post(reverse("people:invite", args=[workspace.slug]), {"emails": "new@x.test", "role": ""})
    assert "Choose the workspace role to offer." in response.content.decode()
    assert not Invite.objects.exists()


def test_collaborator_picker_starts_unchosen(client, workspace, owner):
    experience = make_experience(workspace)
    add_member(workspace, catalog.MEMBER)
    url = reverse("collaborators:index", args=[workspace.slug, experience.pk])
    html = page(client, owner, url)
    assert_no_radio_checked(html, "membership")
    before = Collaborator.objects.count()
    client.post(reverse("collaborators:add", args=[workspace.slug, experience.pk]), {"membership": ""})
    assert Collaborator.objects.count() == before


def test_a_new_join_domain_has_no_role_chosen_and_asks_for_approval(client, workspace, owner):
    html = page(client, owner, reverse("join_domains:index", args=[workspace.slug]))
    assert_starts_unchosen(select(html, "role"))
    assert re.search(r'<input type="radio" name="mode" value="request"[^>]*checked', html)
    client.post(reverse("join_domains:index", args=[workspace.slug]), {"domain": "acme-corp.test", "mode": "request"})
    assert not JoinDomain.objects.exists()


def test_owners_are_not_offered_as_new_owners(workspace, owner):
    other_owner = add_member(workspace, catalog.OWNER)
    admin = add_member(workspace, catalog.ADMIN)
    mine = Membership.objects.get(workspace=workspace, user=owner)
    offered = set(TransferForm(workspace=workspace, actor_membership=mine).fields["to"].queryset)
    assert admin in offered and other_owner not in offered and mine not in offered


def test_the_service_refuses_to_make_an_owner_an_owner(workspace, owner):
    other_owner = add_member(workspace, catalog.OWNER, user=UserFactory(email="otto@acme.test"))
    with pytest.raises(RuleViolation, match="otto@acme.test is already an owner of Acme"):
        ownership_transfer(actor=owner, workspace=workspace, to=other_owner, step_down=True)
    # Nothing happened: the actor did not step down.
    assert Membership.objects.get(workspace=workspace, user=owner).role == builtin_role(catalog.OWNER)
