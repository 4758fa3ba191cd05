"""The plan's limits hold whichever way a site or a member is added: refused with the plan's name
and where to upgrade, nothing written; an upgrade lifts them; the billing box shows used / limit.

The test settings lift the first plan's limits for the rest of the suite; these tests put them back.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.services import email_verify
from billing.limits import PlanLimitReached, plan_of
from billing.staff import plan_set
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site
from workspaces.invites.services import invite_accept, invite_create
from workspaces.joining.services import join_domain_add, join_request_approve
from workspaces.models import Invite, JoinRequest, Membership, Site
from workspaces.sites.services import site_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def free_plan_limits(settings):
    """The production catalogue's first two plans, limits included."""
    settings.BILLING_PLANS = [
        {"key": "free", "name": "Free", "monthly_price": "0.00", "limits": {"sites": 1, "members": 3}},
        {"key": "growth", "name": "Growth", "monthly_price": "49.00", "limits": {"sites": 5, "members": 10}},
    ]


def upgrade_path(workspace) -> str:
    return reverse("billing:plan", args=[workspace.slug])


def test_a_second_site_on_free_is_refused_with_the_plan_and_the_upgrade_link(workspace, owner):
    make_site(workspace, "Shop")
    with pytest.raises(PlanLimitReached) as refused:
        site_create(actor=owner, workspace=workspace, name="Blog")
    message = refused.value.messages[0]
    assert "The Free plan of Acme includes 1 site" in message and upgrade_path(workspace) in message
    assert Site.objects.filter(workspace=workspace).count() == 1


def test_the_site_form_shows_the_refusal(client, workspace, owner):
    make_site(workspace, "Shop")
    client.force_login(owner)
    response = client.post(
        reverse("workspaces:site_create", args=[workspace.slug]), {"name": "Blog", "time_zone": "UTC"}
    )
    assert response.status_code == 200
    assert "The Free plan of Acme includes 1 site" in response.content.decode()
    assert not Site.objects.filter(name="Blog").exists()


def test_an_upgrade_lifts_the_limit(workspace, owner):
    make_site(workspace, "Shop")
    plan_set(workspace=workspace, plan_key="growth")
    assert plan_of(workspace).name == "Growth"
    site_create(actor=owner, workspace=workspace, name="Blog")
    assert Site.objects.filter(workspace=workspace).count() == 2


def test_invitations_count_members_and_pending_invitations(workspace, owner):
    add_member(workspace, catalog.MEMBER)
    invite_create(actor=owner, workspace=workspace, emails=["ann@acme.test"], role=builtin_role(catalog.MEMBER))
    with pytest.raises(RuleViolation) as refused:
        invite_create(actor=owner, workspace=workspace, emails=["bob@acme.test"], role=builtin_role(catalog.MEMBER))
    assert "The Free plan of Acme includes 3 members" in " ".join(refused.value.messages)
    assert list(Invite.objects.values_list("email", flat=True)) == ["ann@acme.test"]
    # Refreshing the pending invitation adds nobody, so it is not refused.
    invite_create(actor=owner, workspace=workspace, emails=["ann@acme.test"], role=builtin_role(catalog.VIEWER))


def test_accepting_is_refused_once_the_plan_is_full(workspace, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_create(actor=owner, workspace=workspace, emails=["ann@acme.test"], role=builtin_role(catalog.MEMBER))
    token = re.search(r"/invites/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)
    add_member(workspace, catalog.MEMBER)
    add_member(workspace, catalog.MEMBER)  # three members now: the invitation came first, the seats went
    ann = UserFactory(email="ann@acme.test")
    with pytest.raises(PlanLimitReached):
        invite_accept(invite_token=token, user=ann)
    assert not Membership.objects.filter(user=ann).exists()
    assert Invite.objects.get().status == Invite.Status.PENDING


def test_a_full_plan_turns_auto_join_into_a_request(workspace, owner):
    join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    add_member(workspace, catalog.MEMBER)
    add_member(workspace, catalog.MEMBER)
    newcomer = UserFactory(email="new@acme.test", email_verified_at=None)
    assert email_verify(newcomer) is True  # verifying the address still succeeds
    assert not Membership.objects.filter(user=newcomer).exists()
    join_request = JoinRequest.objects.get(user=newcomer)
    with pytest.raises(PlanLimitReached):
        join_request_approve(actor=owner, join_request=join_request)
    assert JoinRequest.objects.get(user=newcomer).status == JoinRequest.Status.PENDING
    plan_set(workspace=workspace, plan_key="growth")
    join_request_approve(actor=owner, join_request=join_request)
    assert Membership.objects.filter(user=newcomer, workspace=workspace).exists()


def test_the_system_is_held_to_the_limit_too(workspace):
    add_member(workspace, catalog.MEMBER)
    add_member(workspace, catalog.MEMBER)
    with pytest.raises(PlanLimitReached):
        add_member(workspace, catalog.MEMBER)
    assert Membership.objects.filter(workspace=workspace).count() == 3


def test_the_billing_box_shows_used_of_the_limit(client, workspace, owner):
    make_site(workspace, "Shop")
    add_member(workspace, catalog.MEMBER)
    client.force_login(owner)
    page = client.get(reverse("billing:index", args=[workspace.slug])).content.decode()
    assert '<dt>Sites</dt>\n    <dd>1 / 1 used <span class="badge">limit reached</span>' in page
    assert "<dt>Members</dt>\n    <dd>2 / 3 used</dd>" in page
    assert "Request cancellation" not in page


def test_a_workspace_over_its_limit_after_a_downgrade_keeps_what_it_has(client, workspace, owner):
    plan_set(workspace=workspace, plan_key="growth")
    make_site(workspace, "Shop")
    make_site(workspace, "Blog")
    plan_set(workspace=workspace, plan_key="free")
    assert Site.objects.filter(workspace=workspace).count() == 2
    client.force_login(owner)
    page = client.get(reverse("billing:index", args=[workspace.slug])).content.decode()
    assert '2 / 1 used <span class="badge">over the plan' in page
    with pytest.raises(PlanLimitReached):
        make_site(workspace, "Docs")
