"""Every destructive or costly control acts only when confirmed (kernel/confirm.py).

From the refused side: a POST without ``confirm=yes`` (a forged form, an inline button, a hurried
click) changes nothing and answers with the confirmation page, which names what will happen and
posts the same fields back with the confirmation. Then the confirmed POST does the change, so each
test fails if its control loses the guard or stops working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from billing.models import BillingAccount
from billing.staff import plan_set
from permissions import catalog
from permissions.keys import key_create
from permissions.models import Role
from permissions.roles import builtin_role
from permissions.services import role_save
from privacy.models import DataRequest
from scim.tokens import scim_token_create
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team
from tests.settings_factories import SSO
from workspace_settings.models import SSOConfiguration
from workspace_settings.services import sso_save
from workspaces.experiences.services import collaborator_add, experience_publish
from workspaces.invites.services import invite_create
from workspaces.joining.services import join_domain_add
from workspaces.models import (
    Collaborator,
    Experience,
    Invite,
    JoinDomain,
    Membership,
    Site,
    SiteGrant,
    Team,
    TeamMembership,
    ViewerGroup,
)
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = pytest.mark.django_db


@dataclass
class Control:
    url: str
    data: dict
    done: Callable[[], bool]  # True once the change happened
    says: str  # a phrase of the confirmation page
    phrase: str = ""  # the text the page asks to type


def _member_removal(workspace, owner):
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mia@acme.test", full_name="Mia"))
    return Control(
        reverse("people:remove", args=[workspace.slug, member.pk]),
        {},
        lambda: not Membership.objects.filter(pk=member.pk).exists(),
        "Remove Mia from Acme?",
    )


def _transfer(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(email="ada@acme.test", full_name="Ada"))
    return Control(
        reverse("people:transfer", args=[workspace.slug]),
        {"to_email": "ada@acme.test", "step_down": "on"},
        lambda: (
            Membership.objects.get(pk=admin.pk).role.is_owner
            and Membership.objects.get(workspace=workspace, user=owner).role.key == catalog.ADMIN
        ),
        "You step down to Admin",
        phrase="ada@acme.test",
    )


def _invite_revoke(workspace, owner):
    invite_create(
        actor=owner, workspace=workspace, emails=["new@x.test"], role=builtin_role(catalog.VIEWER), send_email=False
    )
    invite = Invite.objects.get()
    return Control(
        reverse("people:invite_revoke", args=[workspace.slug, invite.pk]),
        {},
        lambda: Invite.objects.get(pk=invite.pk).status == Invite.Status.REVOKED,
        "The link sent to new@x.test stops working at once",
    )


def _team_grant(workspace, owner):
    team, site = make_team(workspace), make_site(workspace, "Shop")
    grant = site_grant_set(actor=None, site=site, team=team, role=builtin_role(catalog.EDITOR, catalog.SITE))
    return team, site, grant


def _team_grant_revoke(workspace, owner):
    team, site, grant = _team_grant(workspace, owner)
    return Control(
        reverse("teams:grant_revoke", args=[workspace.slug, team.pk, grant.pk]),
        {},
        lambda: not SiteGrant.objects.filter(pk=grant.pk).exists(),
        "loses the role Editor on Shop",
    )


def _site_grant_revoke(workspace, owner):
    team, site, grant = _team_grant(workspace, owner)
    return Control(
        reverse("site_access:grant_revoke", args=[workspace.slug, site.slug, grant.pk]),
        {},
        lambda: not SiteGrant.objects.filter(pk=grant.pk).exists(),
        "Revoke the grant of the team “Growth” on Shop?",
    )


def _team_member_remove(workspace, owner):
    team = make_team(workspace)
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(full_name="Tom"))
    team_add_member(actor=None, team=team, membership=member)
    return Control(
        reverse("teams:member_remove", args=[workspace.slug, team.pk, member.pk]),
        {},
        lambda: not TeamMembership.objects.filter(team=team, membership=member).exists(),
        "Remove Tom from the team “Growth”?",
    )


def _team_delete(workspace, owner):
    team = make_team(workspace)
    return Control(
        reverse("teams:delete", args=[workspace.slug, team.pk]),
        {},
        lambda: not Team.objects.filter(pk=team.pk).exists(),
        "Delete the team",
    )


def _site_delete(workspace, owner):
    site = make_site(workspace, "Shop")
    return Control(
        reverse("workspaces:site_delete", args=[workspace.slug, site.slug]),
        {},
        lambda: not Site.objects.filter(pk=site.pk).exists(),
        "Delete Shop?",
    )


def _experience_delete(workspace, owner):
    experience = make_experience(workspace)
    return Control(
        reverse("workspaces:experience_delete", args=[workspace.slug, experience.pk]),
        {},
        lambda: not Experience.objects.filter(pk=experience.pk).exists(),
        "Delete Launch?",
    )


def _viewer_group_delete(workspace, owner):
    group = viewer_group_create(actor=None, workspace=workspace, name="Press")
    return Control(
        reverse("viewer_groups:delete", args=[workspace.slug, group.pk]),
        {},
        lambda: not ViewerGroup.objects.filter(pk=group.pk).exists(),
        "Delete the viewer group Press?",
    )


def _join_domain_remove(workspace, owner):
    domain = join_domain_add(
        actor=owner, workspace=workspace, domain="acme-corp.test", role=builtin_role(catalog.VIEWER)
    )
    return Control(
        reverse("join_domains:remove", args=[workspace.slug, domain.pk]),
        {},
        lambda: not JoinDomain.objects.filter(pk=domain.pk).exists(),
        "Remove acme-corp.test?",
    )


def _role_delete(workspace, owner):
    role = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Helpers", capabilities={"view_workspace"}
    )
    return Control(
        reverse("roles:delete", args=[workspace.slug, role.pk]),
        {},
        lambda: not Role.objects.filter(pk=role.pk).exists(),
        "Delete the role “Helpers”?",
    )


def _key_revoke(workspace, owner):
    key, _raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    return Control(
        reverse("access_keys:revoke", args=[workspace.slug, key.pk]),
        {},
        lambda: type(key).objects.get(pk=key.pk).revoked_at is not None,
        "Revoke the access key “Dashboards”?",
    )


def _scim_token_revoke(workspace, owner):
    token, _raw = scim_token_create(actor=None, workspace=workspace, name="Okta")
    return Control(
        reverse("scim_tokens:revoke", args=[workspace.slug, token.pk]),
        {},
        lambda: type(token).objects.get(pk=token.pk).revoked_at is not None,
        "Revoke the SCIM token “Okta”?",
    )


def _collaborator_remove(workspace, owner):
    experience = make_experience(workspace)
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(full_name="Cleo"))
    collaborator = collaborator_add(actor=None, experience=experience, membership=member)
    return Control(
        reverse("collaborators:remove", args=[workspace.slug, experience.pk, collaborator.pk]),
        {},
        lambda: not Collaborator.objects.filter(pk=collaborator.pk).exists(),
        "Remove Cleo from “Launch”?",
    )


def _plan_upgrade(workspace, owner):
    return Control(
        reverse("billing:plan", args=[workspace.slug]),
        {"plan": "growth", "reason": ""},
        lambda: BillingAccount.objects.get(workspace=workspace).plan == "growth",
        "Growth costs 49.00 EUR a month",
    )


def _deletion_request(workspace, owner):
    site = make_site(workspace, "Shop")
    return Control(
        reverse("privacy:create", args=[workspace.slug]),
        {"kind": "deletion", "site": site.pk, "subject": "visitor-7", "note": ""},
        lambda: DataRequest.objects.filter(subject="visitor-7").exists(),
        "Ask to delete the data of visitor-7 on Shop?",
    )


def _sso_remove(workspace, owner):
    sso_save(actor=None, workspace=workspace, **SSO)
    return Control(
        reverse("settings:sso_remove", args=[workspace.slug]),
        {},
        lambda: not SSOConfiguration.objects.filter(workspace=workspace).exists(),
        "Remove the single sign-on configuration?",
    )


def _unpublish(workspace, owner):
    experience = experience_publish(actor=None, experience=make_experience(workspace))
    return Control(
        reverse("workspaces:experience_unpublish", args=[workspace.slug, experience.pk]),
        {},
        lambda: Experience.objects.get(pk=experience.pk).status == Experience.Status.DRAFT,
        "Its public link stops working at once",
    )


CONTROLS = {
    "remove member": _member_removal,
    "transfer ownership and step down": _transfer,
    "revoke invitation": _invite_revoke,
    "revoke team grant": _team_grant_revoke,
    "revoke site grant": _site_grant_revoke,
    "remove from team": _team_member_remove,
    "delete team": _team_delete,
    "delete site": _site_delete,
    "delete experience": _experience_delete,
    "delete viewer group": _viewer_group_delete,
    "remove join domain": _join_domain_remove,
    "delete role": _role_delete,
    "revoke access key": _key_revoke,
    "revoke SCIM token": _scim_token_revoke,
    "remove collaborator": _collaborator_remove,
    "paid plan change": _plan_upgrade,
    "data deletion request": _deletion_request,
    "remove single sign-on": _sso_remove,
    "unpublish experience": _unpublish,
}


@pytest.fixture(params=list(CONTROLS))
def control(request, workspace, owner):
    plan_set(workspace=workspace, plan_key="free")
    return CONTROLS[request.param](workspace, owner)


def test_an_unconfirmed_post_changes_nothing_and_asks(client, owner, control):
    client.force_login(owner)
    events = AuditEvent.objects.count()
    response = client.post(control.url, control.data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not control.done()
    assert AuditEvent.objects.count() == events
    assert control.says in html
    assert 'name="confirm" value="yes"' in html
    for name, value in control.data.items():  # the page posts the same fields back
        if value:
            assert f'name="{name}" value="{value}"' in html


def test_the_confirmed_post_acts(client, owner, control):
    client.force_login(owner)
    data = {**control.data, "confirm": "yes", "confirm_phrase": control.phrase}
    response = client.post(control.url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert control.done()


def test_a_forged_confirmation_value_is_not_one(client, owner, control):
    client.force_login(owner)
    client.post(control.url, {**control.data, "confirm": "1", "confirm_phrase": control.phrase})
    assert not control.done()


def test_transfer_needs_the_new_owners_address_typed(client, workspace, owner):
    control = _transfer(workspace, owner)
    client.force_login(owner)
    for typed in ("", "someone@else.test", "ada@acme"):
        response = client.post(control.url, {**control.data, "confirm": "yes", "confirm_phrase": typed})
        assert response.status_code == 400
        assert "Type ada@acme.test exactly as shown to confirm; nothing was changed." in response.content.decode()
        assert not control.done()
    # Case and surrounding spaces do not matter.
    client.post(control.url, {**control.data, "confirm": "yes", "confirm_phrase": "  ADA@acme.test "})
    assert control.done()


def test_a_confirmation_page_shows_what_will_happen_on_get(client, owner, workspace):
    control = _member_removal(workspace, owner)
    client.force_login(owner)
    response = client.get(control.url)
    assert response.status_code == 200 and "loses the role Member" in response.content.decode()
    assert not control.done()


def test_the_confirmation_page_is_refused_to_those_who_may_not_act(client, workspace):
    control = _member_removal(workspace, None)
    viewer = add_member(workspace, catalog.VIEWER).user
    client.force_login(viewer)
    assert client.get(control.url).status_code == 403
    assert client.post(control.url, {"confirm": "yes"}).status_code == 403
    assert not control.done()


def test_a_downgrade_is_asked_too_but_the_same_plan_is_not(client, workspace, owner):
    plan_set(workspace=workspace, plan_key="business")
    client.force_login(owner)
    url = reverse("billing:plan", args=[workspace.slug])
    response = client.post(url, {"plan": "growth"})
    assert "Ask to move down to the Growth plan?" in response.content.decode()
    response = client.post(url, {"plan": "business"})
    assert response.status_code == 302  # nothing to confirm: the page says nothing changed


def test_an_export_request_needs_no_confirmation(client, workspace, owner):
    site = make_site(workspace, "Shop")
    client.force_login(owner)
    data = {"kind": "export", "site": site.pk, "subject": "visitor-8", "note": ""}
    response = client.post(reverse("privacy:create", args=[workspace.slug]), data)
    assert response.status_code == 302 and DataRequest.objects.filter(subject="visitor-8").exists()


def test_carried_fields_are_escaped(client, workspace, owner):
    control = _member_removal(workspace, owner)
    client.force_login(owner)
    html = client.post(control.url, {"note": '"><script>x</script>'}).content.decode()
    assert "<script>x</script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html
