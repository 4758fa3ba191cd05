"""Two-factor authentication and the admin: staff need a verified session when the deployment says
so (ADMIN_REQUIRE_TWO_FACTOR), and the device lists never show a secret or a backup code."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.twofactor_factories import code_for, enable_two_factor, make_two_factor
from twofactor.models import WorkspaceSecurity

ADMIN = reverse("admin:index")
VERIFY = reverse("two_factor:verify")
SETUP = reverse("two_factor:setup")


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True)


def verify(client, user):
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302


# --- ADMIN_REQUIRE_TWO_FACTOR ------------------------------------------------------------------------


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=True)
def test_staff_without_two_factor_are_led_to_set_it_up(client, staff):
    client.force_login(staff)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response.url == f"{SETUP}?next=%2Fadmin%2F"


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=True)
def test_the_admin_site_itself_refuses_an_unverified_session(rf, staff):
    from django.contrib import admin

    request = rf.get(ADMIN)
    request.user = staff  # no OTPMiddleware: nothing verified
    assert admin.site.has_permission(request) is False
    staff.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=True)
def test_staff_with_two_factor_get_in_after_the_code(client, staff):
    enable_two_factor(staff)
    client.force_login(staff)
    assert client.get(ADMIN).url.startswith(VERIFY)
    verify(client, staff)
    assert client.get(ADMIN).status_code == 200


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=False)
def test_without_the_setting_the_password_is_enough_for_staff_without_two_factor(client, staff):
    client.force_login(staff)
    assert client.get(ADMIN).status_code == 200


@override_settings(ADMIN_REQUIRE_TWO_FACTOR=True)
def test_the_setting_concerns_the_admin_only(client, db):
    person = UserFactory()
    client.force_login(person)
    assert client.get(reverse("home")).status_code == 200


# --- what the admin shows ----------------------------------------------------------------------------


@pytest.fixture
def with_devices(staff, owner, workspace):
    make_two_factor(workspace, owner)
    return TOTPDevice.objects.get(user=owner), StaticDevice.objects.get(user=owner)


def test_device_lists_and_pages_show_no_secret_and_no_backup_code(client, staff, with_devices):
    app, backup = with_devices
    tokens = list(StaticToken.objects.filter(device=backup).values_list("token", flat=True))
    client.force_login(staff)
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[app.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_static_staticdevice_change", args=[backup.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert app.key not in page and app.key.upper() not in page, url
        assert not [token for token in tokens if token in page], url
        assert "qrcode" not in page.lower(), url
    assert ">10<" in client.get(pages[2]).content.decode()  # how many codes are left, not which


def test_devices_cannot_be_added_or_changed_in_the_admin(client, staff, with_devices):
    app, _backup = with_devices
    client.force_login(staff)
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    response = client.post(reverse("admin:otp_totp_totpdevice_change", args=[app.pk]), {"key": "00" * 20})
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.key != "00" * 20


def test_staff_reset_a_persons_two_factor_with_one_audit_event(client, staff, owner, with_devices):
    app, _backup = with_devices
    client.force_login(staff)

    response = client.post(
        reverse("admin:otp_totp_totpdevice_changelist"),
        {"action": "reset_two_factor", "_selected_action": [str(app.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert f"Two-factor authentication is off for {owner.email}" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticDevice.objects.filter(user=owner).exists()
    event = AuditEvent.objects.get(action="account.two_factor_reset")
    assert event.actor == staff and event.target_id == str(owner.pk)


def test_the_workspace_requirement_is_read_only_in_the_admin(client, staff, workspace, with_devices):
    security = WorkspaceSecurity.objects.get(workspace=workspace)
    client.force_login(staff)
    assert client.get(reverse("admin:twofactor_workspacesecurity_changelist")).status_code == 200
    response = client.post(reverse("admin:twofactor_workspacesecurity_change", args=[security.pk]), {})
    assert response.status_code == 403
    assert client.get(reverse("admin:twofactor_workspacesecurity_add")).status_code == 403
