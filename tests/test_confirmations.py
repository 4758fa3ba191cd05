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
from billing.services import billing_contact_add
from billing.staff import plan_set
from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from permissions.services import role_save
from privacy.models import DataRequest
from scim.tokens import scim_token_create
from sso.models import Connection
from sso.services import connection_add
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team
from webhooks.services import endpoint_add
from workspace_settings.services import ip_rules_add
from workspaces.experiences.services import collaborator_add, experience_publish
from workspaces.invites.services import invite_create
from workspaces.joining.services import join_domain_add
from workspaces.models import (
    Experience,
    Invite,
    JoinRequest,
    Membership,
    TeamMembership,
)
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member
from workspaces.viewer_groups.services import viewer_group_create, viewer_group_members_add

pytestmark = pytest.mark.django_db


@dataclass
class Control:
    url: str
    data: dict
    done: Callable[[], bool]  # True once the change happened
    says: str  # a phrase of the confirmation page
    phrase: str = ""  # the text the page asks to type
    by_get: bool = True  # False: the control's form comes first, so a GET has nothing to confirm
    shows_result: bool = False  # True: the confirmed action answers a page (a secret shown once), not a redirect


def _url(name: str, *args) -> str:
    return reverse(name, args=args)


def _gone(row) -> Callable[[], bool]:
    """True once ``row`` is deleted."""
    return lambda: not type(row).objects.filter(pk=row.pk).exists()


def _removal(url_name: str, workspace, row, says: str, parents=()) -> Control:
    """The control at ``url_name`` (the workspace, ``parents``, the row) that deletes ``row``."""
    return Control(_url(url_name, workspace.slug, *parents, row.pk), {}, _gone(row), says)


def _member_removal(workspace, owner):
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mia@acme.test", full_name="Mia"))
    return _removal("people:remove", workspace, member, "Remove Mia from Acme?")


def _transfer(workspace, owner):
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(email="ada@acme.test", full_name="Ada"))
    return Control(
        _url("people:transfer", workspace.slug),
        {"to_email": "ada@acme.test", "step_down": "on"},
        lambda: (
            Membership.objects.get(pk=admin.pk).role.is_owner
            and Membership.objects.get(workspace=workspace, user=owner).role.key == catalog.ADMIN
        ),
        "You step down to Admin",
        phrase="ada@acme.test",
        by_get=False,
    )


def _invite_revoke(workspace, owner):
    invite_create(
        actor=owner, workspace=workspace, emails=["new@x.test"], role=builtin_role(catalog.VIEWER), send_email=False
    )
    invite = Invite.objects.get()
    return Control(
        _url("people:invite_revoke", workspace.slug, invite.pk),
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
    return _removal("teams:grant_revoke", workspace, grant, "loses the role Editor on Shop", parents=(team.pk,))


def _site_grant_revoke(workspace, owner):
    team, site, grant = _team_grant(workspace, owner)
    return _removal(
        "site_access:grant_revoke",
        workspace,
        grant,
        "Revoke the grant of the team “Growth” on Shop?",
        parents=(site.slug,),
    )


def _team_member_remove(workspace, owner):
    team = make_team(workspace)
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(full_name="Tom"))
    team_add_member(actor=None, team=team, membership=member)
    return Control(
        _url("teams:member_remove", workspace.slug, team.pk, member.pk),
        {},
        lambda: not TeamMembership.objects.filter(team=team, membership=member).exists(),
        "Remove Tom from the team “Growth”?",
    )


def _team_delete(workspace, owner):
    team = make_team(workspace)
    return _removal("teams:delete", workspace, team, "Delete the team")


def _site_delete(workspace, owner):
    site = make_site(workspace, "Shop")
    return Control(
        _url("workspaces:site_delete", workspace.slug, site.slug),
        {},
        _gone(site),
        "Delete Shop?",
    )


def _experience_delete(workspace, owner):
    experience = make_experience(workspace)
    return _removal("workspaces:experience_delete", workspace, experience, "Delete Launch?")


def _viewer_group_delete(workspace, owner):
    group = viewer_group_create(actor=None, workspace=workspace, name="Press")
    return _removal("viewer_groups:delete", workspace, group, "Delete the viewer group Press?")


def _join_domain_remove(workspace, owner):
    domain = join_domain_add(
        actor=owner, workspace=workspace, domain="acme-corp.test", role=builtin_role(catalog.VIEWER)
    )
    return _removal("join_domains:remove", workspace, domain, "Remove acme-corp.test?")


def _role_delete(workspace, owner):
    role = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Helpers", capabilities={"view_workspace"}
    )
    return _removal("roles:delete", workspace, role, "Delete the role “Helpers”?")


def _key_revoke(workspace, owner):
    key, _raw = key_create(actor=None, workspace=workspace, name="Dashboards")
    return Control(
        _url("access_keys:revoke", workspace.slug, key.pk),
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


def _webhook_rotate(workspace, owner):
    endpoint, secret = endpoint_add(actor=None, workspace=workspace, url="http://127.0.0.1:9/hook")
    return Control(
        reverse("webhooks:rotate", args=[workspace.slug, endpoint.pk]),
        {},
        lambda: type(endpoint).objects.get(pk=endpoint.pk).secret != secret,
        "Rotate the secret of http://127.0.0.1:9/hook?",
        shows_result=True,
    )


def _webhook_remove(workspace, owner):
    endpoint, _secret = endpoint_add(actor=None, workspace=workspace, url="http://127.0.0.1:9/hook")
    return Control(
        reverse("webhooks:remove", args=[workspace.slug, endpoint.pk]),
        {},
        lambda: not type(endpoint).objects.filter(pk=endpoint.pk).exists(),
        "Remove the webhook endpoint http://127.0.0.1:9/hook?",
    )


def _collaborator_remove(workspace, owner):
    experience = make_experience(workspace)
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(full_name="Cleo"))
    collaborator = collaborator_add(actor=None, experience=experience, membership=member)
    return _removal(
        "collaborators:remove", workspace, collaborator, "Remove Cleo from “Launch”?", parents=(experience.pk,)
    )


def _plan_upgrade(workspace, owner):
    return Control(
        _url("billing:plan", workspace.slug),
        {"plan": "growth", "reason": ""},
        lambda: BillingAccount.objects.get(workspace=workspace).plan == "growth",
        "Growth costs 49.00 EUR a month",
        by_get=False,
    )


def _deletion_request(workspace, owner):
    site = make_site(workspace, "Shop")
    return Control(
        _url("privacy:create", workspace.slug),
        {"kind": "deletion", "site": site.pk, "subject": "visitor-7", "note": ""},
        lambda: DataRequest.objects.filter(subject="visitor-7").exists(),
        "Ask to delete the data of visitor-7 on Shop?",
        by_get=False,
    )


def _sso_connection_remove(workspace, owner):
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    connection = connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer="https://idp.acme.test",
        client_id="portal",
        client_secret="confirm-secret",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    return Control(
        reverse("sso:remove", args=[workspace.slug, connection.pk]),
        {},
        lambda: not Connection.objects.filter(pk=connection.pk).exists(),
        "Remove the connection “Acme IdP”?",
    )


def _unpublish(workspace, owner):
    experience = experience_publish(actor=None, experience=make_experience(workspace))
    return Control(
        _url("workspaces:experience_unpublish", workspace.slug, experience.pk),
        {},
        lambda: Experience.objects.get(pk=experience.pk).status == Experience.Status.DRAFT,
        "Its public link stops working at once",
    )


def _join_request_decline(workspace, owner):
    join_request = JoinRequest.objects.create(workspace=workspace, user=UserFactory(email="asker@corp.test"))
    return Control(
        _url("join_requests:decline", workspace.slug, join_request.pk),
        {"next": _url("people:index", workspace.slug)},
        lambda: JoinRequest.objects.get(pk=join_request.pk).status == JoinRequest.Status.DECLINED,
        "asker@corp.test does not join Acme; their request is closed.",
    )


def _ip_rule_remove(workspace, owner):
    (rule,) = ip_rules_add(actor=None, workspace=workspace, text="203.0.113.0/24", note="office")
    return _removal(
        "settings:ip_rule_remove", workspace, rule, "Visits from 203.0.113.0/24 to the sites of Acme are tracked again."
    )


def _billing_contact_remove(workspace, owner):
    contact = billing_contact_add(actor=None, workspace=workspace, email="books@acme.test")
    return _removal("billing:contact_remove", workspace, contact, "books@acme.test no longer receives the invoices")


def _viewer_address_remove(workspace, owner):
    group = viewer_group_create(actor=None, workspace=workspace, name="Press")
    (address,) = viewer_group_members_add(actor=None, group=group, emails=["reporter@news.test"])
    return _removal(
        "viewer_groups:member_remove",
        workspace,
        address,
        "reporter@news.test can no longer open the restricted experiences shared with “Press”",
        parents=(group.pk,),
    )


def _owner_demotion(workspace, owner):
    other = add_member(workspace, catalog.OWNER, user=UserFactory(email="otto@acme.test", full_name="Otto"))
    return Control(
        _url("people:change_role", workspace.slug, other.pk),
        {"role": builtin_role(catalog.ADMIN).pk},
        lambda: Membership.objects.get(pk=other.pk).role.key == catalog.ADMIN,
        "Otto (otto@acme.test) is no longer an owner of Acme",
        by_get=False,
    )


def _leave(workspace, owner):
    add_member(workspace, catalog.OWNER)  # so that the owner may leave
    mine = Membership.objects.get(workspace=workspace, user=owner)
    return Control(
        _url("people:leave", workspace.slug),
        {},
        _gone(mine),
        "You lose your role (Owner), site grants, teams and collaborations in Acme, at once.",
    )


def _leave_from_the_workspace_page(workspace, owner):
    control = _leave(workspace, owner)
    control.url = _url("workspaces:leave", workspace.slug)
    return control


def _bulk_members(workspace, action, **extra):
    members = [add_member(workspace, catalog.MEMBER, user=UserFactory(email=f"b{n}@acme.test")) for n in range(2)]
    data = {"action": action, "scope": "selected", "member": [str(m.pk) for m in members], **extra}
    return members, data


def _bulk_remove(workspace, owner):
    members, data = _bulk_members(workspace, "remove")
    return Control(
        _url("people:bulk_members", workspace.slug),
        data,
        lambda: not Membership.objects.filter(pk__in=[m.pk for m in members]).exists(),
        "Each of the 2 members ticked loses their role, site grants, teams and collaborations in Acme",
        by_get=False,
    )


def _bulk_team_remove(workspace, owner):
    team = make_team(workspace)
    members, data = _bulk_members(workspace, "team_remove", bulk_team=str(team.pk))
    for member in members:
        team_add_member(actor=None, team=team, membership=member)
    return Control(
        _url("people:bulk_members", workspace.slug),
        data,
        lambda: not TeamMembership.objects.filter(team=team).exists(),
        "Take the 2 members ticked out of the team “Growth”?",
        by_get=False,
    )


def _bulk_owner_demotion(workspace, owner):
    others = [add_member(workspace, catalog.OWNER), add_member(workspace, catalog.MEMBER)]
    data = {
        "action": "role",
        "scope": "selected",
        "member": [str(m.pk) for m in others],
        "new_role": str(builtin_role(catalog.VIEWER).pk),
    }
    return Control(
        _url("people:bulk_members", workspace.slug),
        data,
        lambda: Membership.objects.get(pk=others[0].pk).role.key == catalog.VIEWER,
        "Of the 2 members ticked, 1 is an owner of Acme: they become Viewer at once",
        by_get=False,
    )


def _bulk_revoke(workspace, owner):
    invite_create(
        actor=owner,
        workspace=workspace,
        emails=["one@x.test", "two@x.test"],
        role=builtin_role(catalog.VIEWER),
        send_email=False,
    )
    return Control(
        _url("people:bulk_invites", workspace.slug),
        {"action": "revoke", "scope": "all"},
        lambda: not Invite.objects.filter(status=Invite.Status.PENDING).exists(),
        "The links of all 2 invitations stop working at once",
        by_get=False,
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
    "rotate webhook secret": _webhook_rotate,
    "remove webhook endpoint": _webhook_remove,
    "remove collaborator": _collaborator_remove,
    "paid plan change": _plan_upgrade,
    "data deletion request": _deletion_request,
    "remove single sign-on connection": _sso_connection_remove,
    "unpublish experience": _unpublish,
    "decline join request": _join_request_decline,
    "remove IP rule": _ip_rule_remove,
    "remove billing contact": _billing_contact_remove,
    "remove address from viewer group": _viewer_address_remove,
    "role change that takes Owner away": _owner_demotion,
    "leave (people page)": _leave,
    "leave (workspace page)": _leave_from_the_workspace_page,
    "remove members in bulk": _bulk_remove,
    "take members out of a team in bulk": _bulk_team_remove,
    "bulk role change that takes Owner away": _bulk_owner_demotion,
    "revoke invitations in bulk": _bulk_revoke,
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
    for name, values in control.data.items():  # the page posts the same fields back, every value
        for value in values if isinstance(values, list) else [values]:
            if value:
                assert f'name="{name}" value="{value}"' in html


def test_the_confirmed_post_acts(client, owner, control):
    client.force_login(owner)
    data = {**control.data, "confirm": "yes", "confirm_phrase": control.phrase}
    response = client.post(control.url, data)
    assert response.status_code == (200 if control.shows_result else 302), response.content.decode()[:2000]
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


def test_a_get_shows_what_will_happen_and_changes_nothing(client, owner, control):
    client.force_login(owner)
    response = client.get(control.url)
    if control.by_get:
        html = response.content.decode()
        assert response.status_code == 200 and control.says in html
        assert 'name="confirm" value="yes"' in html
    else:  # the control's own form (or nothing: 405) comes first
        assert response.status_code in (200, 405)
    assert not control.done()


def test_an_ordinary_role_change_is_not_asked(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(owner)
    url = _url("people:change_role", workspace.slug, member.pk)
    response = client.post(url, {"role": builtin_role(catalog.ADMIN).pk})
    assert response.status_code == 302
    assert Membership.objects.get(pk=member.pk).role.key == catalog.ADMIN


@pytest.mark.parametrize(
    "action, extra",
    [("role", {}), ("team_add", {"bulk_team": "team"})],
    ids=["role change that takes Owner away from nobody", "add to a team"],
)
def test_bulk_actions_that_take_nothing_away_are_not_asked(client, workspace, owner, action, extra):
    team = make_team(workspace)
    members, data = _bulk_members(workspace, action, new_role=str(builtin_role(catalog.VIEWER).pk))
    data.update({key: str(team.pk) for key in extra})
    client.force_login(owner)
    response = client.post(_url("people:bulk_members", workspace.slug), data)
    assert response.status_code == 302 and response.url == _url("people:bulk_report", workspace.slug)


def test_a_bulk_demotion_by_someone_who_may_not_is_reported_not_asked(client, workspace, owner):
    control = _bulk_owner_demotion(workspace, owner)
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    response = client.post(control.url, control.data)
    assert response.status_code == 302 and not control.done()  # the report says the owner was refused


def test_taking_owner_away_is_refused_before_asking_those_who_may_not(client, workspace, owner):
    control = _owner_demotion(workspace, owner)
    admin = add_member(workspace, catalog.ADMIN).user  # may change roles, but not owners'
    client.force_login(admin)
    for data in (control.data, {**control.data, "confirm": "yes"}):
        response = client.post(control.url, data)
        assert response.status_code == 403
        assert "no longer an owner" not in response.content.decode()
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
    url = _url("billing:plan", workspace.slug)
    response = client.post(url, {"plan": "growth"})
    assert "Ask to move down to the Growth plan?" in response.content.decode()
    response = client.post(url, {"plan": "business"})
    assert response.status_code == 302  # nothing to confirm: the page says nothing changed


def test_an_export_request_needs_no_confirmation(client, workspace, owner):
    site = make_site(workspace, "Shop")
    client.force_login(owner)
    data = {"kind": "export", "site": site.pk, "subject": "visitor-8", "note": ""}
    response = client.post(_url("privacy:create", workspace.slug), data)
    assert response.status_code == 302 and DataRequest.objects.filter(subject="visitor-8").exists()


def test_carried_fields_are_escaped(client, workspace, owner):
    control = _member_removal(workspace, owner)
    client.force_login(owner)
    html = client.post(control.url, {"note": '"><script>x</script>'}).content.decode()
    assert "<script>x</script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html
