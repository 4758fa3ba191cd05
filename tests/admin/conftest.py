"""Fixtures for the admin tests: a superuser's client, one row of every registered model made
through the services, and a helper that turns a rendered admin form back into POST data."""

from __future__ import annotations

import datetime
from smtplib import SMTPException

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone

from audit.models import AuditEvent
from background.services import task_failed
from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from permissions.services import role_save
from sso.services import connection_add, sso_requirement_set
from tests.billing_factories import make_billing_and_privacy
from tests.factories import UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from tests.passkey_factories import add_passkey
from tests.settings_factories import make_settings
from tests.twofactor_factories import make_two_factor
from workspaces.experiences.services import collaborator_add
from workspaces.invites.services import invite_create
from workspaces.models import InviteSend, JoinDomain, JoinRequest, ViewerGroup, ViewerGroupMember
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def acme(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def world(owner, acme):
    """One of everything, made the way the product makes it."""
    member = add_member(acme, catalog.MEMBER)
    site = make_site(acme, "Shop", owner=member)
    team = make_team(acme, "Growth")
    team_add_member(actor=None, team=team, membership=member)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), team=team)
    experience = make_experience(acme, creator=owner, title="Launch")
    collaborator_add(actor=None, experience=experience, membership=member)
    group = ViewerGroup.objects.create(workspace=acme, name="Press")
    ViewerGroupMember.objects.create(group=group, email="reporter@news.test")
    invite = invite_create(
        actor=owner, workspace=acme, emails=["new@acme.test"], role=builtin_role(catalog.VIEWER), send_email=False
    ).invited[0]
    InviteSend.objects.create(workspace=acme, inviter=owner, email="new@acme.test")
    domain = JoinDomain.objects.create(
        workspace=acme, domain="acme.test", role=builtin_role(catalog.MEMBER), verification_token="t" * 32
    )
    JoinRequest.objects.create(workspace=acme, user=UserFactory(email="asker@acme.test"), domain=domain)
    domain.verified_at = timezone.now()
    domain.save(update_fields=["verified_at"])
    connection_add(
        actor=None,
        workspace=acme,
        name="Acme IdP",
        issuer="https://idp.acme.test",
        client_id="portal",
        client_secret="admin-secret",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    sso_requirement_set(actor=None, workspace=acme, required=True)
    role = role_save(
        actor=None, workspace=acme, scope=catalog.WORKSPACE, name="Analyst", capabilities={"view_all_analytics"}
    )
    make_settings(acme, owner)  # workspace_settings rows
    make_billing_and_privacy(acme, owner, site)  # billing and privacy rows
    make_two_factor(acme, owner)  # two-factor devices and the workspace requirement
    add_passkey(owner)  # a passkey next to them
    key, _raw = key_create(actor=owner, workspace=acme, name="Dashboards")
    seen = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "someone@acme.test", "path_info": "/"}
    AccessAttempt.objects.create(**seen, failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    task_failed(task_name="mail.send", task_id="t-1", exception=SMTPException("421 try later"), summary="<1 message>")
    return {
        "workspace": acme,
        "member": member,
        "site": site,
        "team": team,
        "experience": experience,
        "invite": invite,
        "role": role,
        "key": key,
        "viewer_group": group,
        "event": AuditEvent.objects.first(),
    }


# --- posting admin forms -------------------------------------------------------------------------


def _put(data: dict, name: str, value, widget) -> None:
    if isinstance(widget, AdminSplitDateTime):
        if isinstance(value, datetime.datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.time().isoformat()
        return
    if value is None or value is False:
        return
    if value is True:
        data[name] = "on"
    elif isinstance(value, list | tuple):
        data[name] = [str(v) for v in value]
    else:
        data[name] = str(value)


def form_data(response, **changes) -> dict:
    """The POST data a browser would send back unchanged from an admin add/change page, with
    ``changes`` applied (field name → value; None removes the field). Inlines keep their rows and
    add no new one."""
    form = response.context["adminform"].form
    data: dict = {"_save": "Save"}
    for name, field in form.fields.items():
        if not field.disabled:
            _put(data, form.add_prefix(name), form[name].value(), field.widget)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        data[management.add_prefix("TOTAL_FORMS")] = str(formset.initial_form_count())
        for row in formset.initial_forms:
            data[row.add_prefix("id")] = str(row.instance.pk)
    for name, value in changes.items():
        data.pop(name, None)
        if value is not None:
            data[name] = value
    return data


def inline_row(data: dict, prefix: str, **fields) -> dict:
    """Add one new row to an inline of ``form_data``'s result."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def admin_url(model, view: str = "changelist", *args) -> str:
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def run_action(client, model, action: str, objects, **extra):
    """POST an admin action on ``objects``; with ``apply`` set, as the intermediate page does."""
    data = {"action": action, "_selected_action": [str(obj.pk) for obj in objects], **extra}
    return client.post(admin_url(model), data, follow=True)
