"""A workspace's two-factor requirement: who may change it, that turning it on never locks out the
person doing it, and that members are then led through set-up (or code entry) before any page of
the workspace, at no extra query."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.keys import READ_SETTINGS, key_create
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_workspace
from tests.twofactor_factories import app_code, code_for, enable_two_factor, key_from_manual_entry
from twofactor.models import WorkspaceSecurity
from twofactor.services import SET_UP_FIRST, two_factor_requirement_set
from workspaces.models import Membership

VERIFY = reverse("two_factor:verify")
SETUP = reverse("two_factor:setup")
MIDDLEWARE = "twofactor.middleware.TwoFactorMiddleware"


def policy_url(workspace) -> str:
    return reverse("two_factor:workspace_policy", args=[workspace.slug])


def required(workspace) -> bool:
    return WorkspaceSecurity.objects.filter(workspace=workspace, two_factor_required=True).exists()


def events():
    return AuditEvent.objects.filter(action="workspace.two_factor_required")


def verified_client(user) -> Client:
    """A fresh client signed in as ``user`` (two-factor on), code entered."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    return client


@pytest.fixture
def owner_2fa(owner):
    enable_two_factor(owner)
    return owner


@pytest.fixture
def requiring(workspace, owner_2fa):
    two_factor_requirement_set(actor=owner_2fa, workspace=workspace, required=True)
    return workspace


# --- who may open and use the requirement page ---------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (catalog.ADMIN, 200),
        (catalog.MEMBER, 403),
        (catalog.VIEWER, 403),
        (catalog.BILLING_ADMIN, 403),
    ],
)
def test_the_page_is_for_manage_two_factor_policy(client, workspace, role, status):
    member = add_member(workspace, role)
    client.force_login(member.user)
    assert client.get(policy_url(workspace)).status_code == status
    assert client.post(policy_url(workspace), {"two_factor_required": "on"}).status_code in (status, 302)
    if status == 403:
        assert not WorkspaceSecurity.objects.exists()


def test_the_owner_opens_it(client, workspace, owner):
    client.force_login(owner)
    response = client.get(policy_url(workspace))
    assert response.status_code == 200
    assert 'name="two_factor_required"' in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_non_members_get_404(client, workspace):
    client.force_login(UserFactory())
    assert client.get(policy_url(workspace)).status_code == 404
    assert client.post(policy_url(workspace), {"two_factor_required": "on"}).status_code == 404
    assert client.get(reverse("two_factor:workspace_policy", args=["no-such-workspace"])).status_code == 404


def test_another_workspaces_admin_gets_404(client, workspace):
    other = make_workspace(UserFactory(), "Other")
    admin = add_member(other, catalog.ADMIN)
    client.force_login(admin.user)
    assert client.get(policy_url(workspace)).status_code == 404


def test_the_settings_hub_links_the_page_only_for_those_who_hold_the_capability(client, workspace, owner):
    client.force_login(owner)
    assert policy_url(workspace) in client.get(f"/w/{workspace.slug}/settings/").content.decode()
    assert policy_url(workspace) not in client.get(f"/w/{workspace.slug}/").content.decode()  # not in the top nav
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    assert policy_url(workspace) not in client.get(f"/w/{workspace.slug}/").content.decode()


def test_the_service_refuses_members_without_the_capability(workspace):
    member = add_member(workspace, catalog.MEMBER)
    enable_two_factor(member.user)
    with pytest.raises(PermissionDenied):
        two_factor_requirement_set(actor=member.user, workspace=workspace, required=True)
    assert not required(workspace) and not events().exists()


# --- turning it on and off -------------------------------------------------------------------------


def test_turning_it_on_without_own_two_factor_is_refused_with_a_link(client, workspace, owner):
    client.force_login(owner)

    response = client.post(policy_url(workspace), {"two_factor_required": "on"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Set up two-factor authentication for yourself first" in page
    assert f'href="{SETUP}?next=%2Faccounts%2Ftwo-factor%2Fworkspace%2F{workspace.slug}%2F"' in page
    assert not required(workspace) and not events().exists()
    with pytest.raises(RuleViolation, match=re.escape(SET_UP_FIRST)):
        two_factor_requirement_set(actor=owner, workspace=workspace, required=True)


def test_turning_it_on_with_own_two_factor_records_one_event(workspace, owner_2fa):
    client = verified_client(owner_2fa)

    response = client.post(policy_url(workspace), {"two_factor_required": "on"}, follow=True)

    assert "Acme now requires two-factor authentication" in response.content.decode()
    security = WorkspaceSecurity.objects.get(workspace=workspace)
    assert security.two_factor_required and security.changed_by == owner_2fa
    event = events().get()
    assert event.workspace == workspace and event.actor == owner_2fa
    assert (event.before, event.after) == ({"two_factor_required": False}, {"two_factor_required": True})
    # The person who turned it on keeps working in the workspace.
    assert client.get(f"/w/{workspace.slug}/").status_code == 200


def test_saving_without_a_change_records_nothing(workspace, owner_2fa):
    client = verified_client(owner_2fa)
    client.post(policy_url(workspace), {})
    assert not events().exists()
    client.post(policy_url(workspace), {"two_factor_required": "on"})
    client.post(policy_url(workspace), {"two_factor_required": "on"})
    assert events().count() == 1


def test_turning_it_off_records_one_event(requiring, owner_2fa):
    client = verified_client(owner_2fa)
    response = client.post(policy_url(requiring), {}, follow=True)
    assert "no longer requires" in response.content.decode()
    assert not required(requiring)
    assert list(events().values_list("after", flat=True)) == [{"two_factor_required": False}] + [
        {"two_factor_required": True}
    ]


def test_nobody_unverified_switches_it_off(client, requiring, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)  # no two-factor yet
    response = client.post(policy_url(requiring), {})
    assert response.status_code == 302 and response.url.startswith(SETUP)
    assert required(requiring)


# --- enforcement -------------------------------------------------------------------------------------


def test_a_member_without_two_factor_is_led_to_set_up_and_then_reaches_the_workspace(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    client.force_login(member)
    target = f"/w/{requiring.slug}/"

    response = client.get(target, follow=True)

    assert response.redirect_chain == [(f"{SETUP}?next=%2Fw%2F{requiring.slug}%2F", 302)]
    page = response.content.decode()
    assert "Acme requires two-factor authentication. Set it up to continue." in page
    key = key_from_manual_entry(re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</p>', page).group(1))

    response = client.post(SETUP, {"code": app_code(key), "next": target})

    assert f'href="{target}"' in response.content.decode()
    assert client.get(target).status_code == 200


def test_a_member_with_two_factor_but_no_code_this_session_is_asked_for_one(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    client.force_login(member)
    enable_two_factor(member)  # in another session, after this one signed in

    response = client.get(f"/w/{requiring.slug}/sites/new/")

    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next=%2Fw%2F{requiring.slug}%2Fsites%2Fnew%2F"
    device = TOTPDevice.objects.get(user=member)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get(f"/w/{requiring.slug}/").status_code == 200


def test_every_page_of_the_workspace_is_covered(client, requiring):
    site = make_site(requiring, "Shop")
    member = add_member(requiring, catalog.ADMIN).user
    client.force_login(member)
    for path in (
        f"/w/{requiring.slug}/",
        f"/w/{requiring.slug}/sites/{site.slug}/",
        f"/w/{requiring.slug}/roles/",
        f"/w/{requiring.slug}/settings/",
        f"/w/{requiring.slug}/people/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith(SETUP), path


def test_other_workspaces_account_pages_and_the_api_are_not_affected(client, requiring):
    member = add_member(requiring, catalog.MEMBER).user
    other = make_workspace(member, "Other")
    client.force_login(member)
    assert client.get(f"/w/{other.slug}/").status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    _key, raw = key_create(actor=None, workspace=requiring, name="Tracker", scopes=[READ_SETTINGS])
    response = client.get("/api/v1/settings/ip-blocklist", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_non_members_still_get_404(client, requiring):
    client.force_login(UserFactory())
    assert client.get(f"/w/{requiring.slug}/").status_code == 404


def test_without_the_requirement_nobody_is_led_anywhere(client, workspace):
    member = add_member(workspace, catalog.MEMBER).user
    client.force_login(member)
    assert client.get(f"/w/{workspace.slug}/").status_code == 200


# --- cost --------------------------------------------------------------------------------------------


def _count(client_factory, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_factory()
    client.get(path)  # warm per-process caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("requirement_on", [False, True])
def test_the_middleware_adds_no_query_to_workspace_pages(workspace, owner_2fa, settings, requirement_on):
    """The requirement is read with the membership, which the page would load anyway."""
    if requirement_on:
        two_factor_requirement_set(actor=owner_2fa, workspace=workspace, required=True)
    path = f"/w/{workspace.slug}/"
    with_it = _count(lambda: verified_client(owner_2fa), path)
    settings.MIDDLEWARE = [name for name in django_settings.MIDDLEWARE if name != MIDDLEWARE]
    without_it = _count(lambda: verified_client(owner_2fa), path)
    assert with_it == without_it


def _bulk_members(workspace, n, *, with_two_factor: int = 0):
    users = User.objects.bulk_create([User(email=f"bulk{workspace.pk}-{i}@x.test") for i in range(n)])
    Membership.objects.bulk_create(
        [Membership(workspace=workspace, user=user, role=builtin_role(catalog.MEMBER)) for user in users]
    )
    TOTPDevice.objects.bulk_create([TOTPDevice(user=user, confirmed=True) for user in users[:with_two_factor]])


@pytest.mark.parametrize("size", [5, 300])
def test_the_requirement_page_costs_the_same_at_any_size(workspace, owner_2fa, size, django_assert_num_queries):
    _bulk_members(workspace, size - 1, with_two_factor=2)
    client = verified_client(owner_2fa)
    # session, user, otp device, workspace, membership, capabilities (2), requirement, own device,
    # members without two-factor
    with django_assert_num_queries(8):
        response = client.get(policy_url(workspace))
    assert response.status_code == 200
    assert f"{size - 3} members have not set up two-factor authentication" in response.content.decode()
