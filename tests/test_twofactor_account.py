"""A person's own two-factor authentication: set-up with a QR code and a typed key, backup codes,
new backup codes, turning it off. Codes are computed here from the device's secret, as an
authenticator app would."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from tests.factories import UserFactory, make_workspace
from tests.twofactor_factories import app_code, code_for, enable_two_factor, key_from_manual_entry
from twofactor import services
from twofactor.devices import pending_app_device

INDEX = reverse("two_factor:index")
SETUP = reverse("two_factor:setup")
VERIFY = reverse("two_factor:verify")
DISABLE = reverse("two_factor:disable")
BACKUP = reverse("two_factor:backup_codes")


@pytest.fixture
def person(db):
    return UserFactory(email="ada@example.test", full_name="Ada Lovelace")


@pytest.fixture
def signed_in(client, person):
    client.force_login(person)
    return client


@pytest.fixture
def no_throttling(settings):
    """Wrong codes make django-otp wait before the next try; tests that try again at once turn
    that off (test_throttling_after_a_wrong_code covers it)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def verified(client, user):
    """Sign in ``user`` (who has two-factor on) and enter the app's code."""
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 302
    return client


def events(action):
    return AuditEvent.objects.filter(action=action)


def codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)


# --- set-up ------------------------------------------------------------------------------------------


def test_setup_page_shows_an_inline_qr_code_and_the_key_for_typing(signed_in, person):
    response = signed_in.get(SETUP)
    assert response.status_code == 200
    page = response.content.decode()
    device = pending_app_device(person)
    assert device is not None and not device.confirmed
    assert '<svg role="img" aria-label="QR code for your authenticator app"' in page
    assert "<img" not in page and 'src="http' not in page  # drawn here: no image service sees the secret
    key = re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</p>', page).group(1)
    assert key_from_manual_entry(key) == device.bin_key
    assert "no-store" in response["Cache-Control"]
    # Reloading keeps the secret the person may already have scanned.
    signed_in.get(SETUP)
    assert TOTPDevice.objects.filter(user=person).count() == 1


def test_confirming_with_the_apps_code_turns_it_on_and_shows_ten_backup_codes_once(signed_in, person):
    page = signed_in.get(SETUP).content.decode()
    key = key_from_manual_entry(re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</p>', page).group(1))

    response = signed_in.post(SETUP, {"code": app_code(key), "next": "/w/acme/"})

    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=person)
    assert device.confirmed
    codes = codes_on(response.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert 'href="/w/acme/"' in response.content.decode()  # continue where the person was going
    assert "no-store" in response["Cache-Control"]
    # The session that proved the code is verified; the codes are not shown again anywhere.
    index = signed_in.get(INDEX).content.decode()
    assert "10 unused backup codes" in index and not set(codes) & set(codes_on(index))
    event = events("account.two_factor_enable").get()
    assert event.actor == person and event.workspace is None
    assert event.after == {"two_factor": True, "backup_codes": 10}
    assert device.key not in str(event.after) and not any(code in str(event.after) for code in codes)


@pytest.mark.parametrize("wrong", ["000000", "12345", "not a code", ""])
def test_a_wrong_code_is_refused_and_nothing_changes(signed_in, person, wrong):
    signed_in.get(SETUP)
    device = pending_app_device(person)
    if wrong == "000000" and code_for(device) == "000000":
        wrong = "000001"

    response = signed_in.post(SETUP, {"code": wrong})

    assert response.status_code == 200
    page = response.content.decode()
    assert "That code is not right" in page or "This field is required" in page
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=person).exists()
    assert not events("account.two_factor_enable").exists()


def test_throttling_after_a_wrong_code(signed_in, person, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1000  # so that the wait cannot be over before the next try
    signed_in.get(SETUP)
    device = pending_app_device(person)
    right = code_for(device)
    signed_in.post(SETUP, {"code": "123456" if right != "123456" else "654321"})

    response = signed_in.post(SETUP, {"code": right})

    assert "Too many wrong codes. Wait" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_setup_when_already_on_goes_back(person):
    enable_two_factor(person)
    with pytest.raises(RuleViolation, match="already on"):
        services.two_factor_setup_start(user=person)


def test_setup_page_when_already_on_and_verified_says_so(client, person):
    enable_two_factor(person)
    verified(client, person)
    response = client.get(SETUP, follow=True)
    assert response.redirect_chain[-1][0] == INDEX
    assert "already on" in response.content.decode()


# --- backup codes ----------------------------------------------------------------------------------


def test_new_backup_codes_replace_the_old_ones(client, person):
    device, old = enable_two_factor(person)
    verified(client, person)

    response = client.post(BACKUP, {"code": code_for(device)})

    new = codes_on(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == set(new)
    event = events("account.backup_codes_regenerate").get()
    assert event.before == {"backup_codes": 10} and event.after == {"backup_codes": 10}


def test_new_backup_codes_refused_with_a_wrong_code(client, person, no_throttling):
    device, old = enable_two_factor(person)
    verified(client, person)

    response = client.post(BACKUP, {"code": "abcdefgh"})

    assert "That code is not right" in response.content.decode()
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == set(old)
    assert not events("account.backup_codes_regenerate").exists()


# --- turning it off --------------------------------------------------------------------------------


def test_turning_off_with_a_current_code(client, person):
    device, _codes = enable_two_factor(person)
    verified(client, person)

    response = client.post(DISABLE, {"code": code_for(device)}, follow=True)

    assert "Two-factor authentication is off" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    assert events("account.two_factor_disable").get().after == {"two_factor": False}


def test_turning_off_with_a_backup_code(client, person):
    _device, codes = enable_two_factor(person)
    verified(client, person)
    client.post(DISABLE, {"code": codes[3].upper()})
    assert not TOTPDevice.objects.filter(user=person).exists()


def test_turning_off_with_a_wrong_code_changes_nothing(client, person, no_throttling):
    enable_two_factor(person)
    verified(client, person)

    response = client.post(DISABLE, {"code": "999999x"})

    assert "That code is not right" in response.content.decode()
    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=person).count() == 10
    assert not events("account.two_factor_disable").exists()


def test_turning_off_is_refused_while_a_workspace_requires_it(client, person):
    device, codes = enable_two_factor(person)
    workspace = make_workspace(person, "Acme Research")
    services.two_factor_requirement_set(actor=person, workspace=workspace, required=True)
    verified(client, person)

    page = client.get(DISABLE).content.decode()
    assert "while you belong to a workspace that requires it" in page and "Acme Research" in page
    response = client.post(DISABLE, {"code": codes[0]})

    assert "Acme Research requires it of every member" in response.content.decode()
    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=person, token=codes[0]).exists()  # not used up
    assert not events("account.two_factor_disable").exists()


def test_pages_for_an_account_without_two_factor_lead_to_the_overview(signed_in):
    for url in (DISABLE, BACKUP):
        response = signed_in.get(url, follow=True)
        assert response.redirect_chain[-1][0] == INDEX
        assert "not on for your account" in response.content.decode()


@pytest.mark.parametrize("url", [INDEX, SETUP, VERIFY, DISABLE, BACKUP])
def test_pages_require_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_forms_carry_csrf_tokens(client, person):
    client.force_login(person)
    assert "csrfmiddlewaretoken" in client.get(SETUP).content.decode()


# --- profile and overview ------------------------------------------------------------------------


def test_profile_links_to_two_factor(signed_in):
    page = signed_in.get(reverse("accounts:profile")).content.decode()
    assert "Two-factor authentication</h2>" in page and f'href="{INDEX}"' in page


def test_overview_lists_workspaces_and_the_requirement_page_only_where_allowed(signed_in, person):
    from permissions import catalog
    from tests.factories import add_member

    mine = make_workspace(person, "Mine")
    theirs = make_workspace(UserFactory(), "Theirs")
    add_member(theirs, catalog.MEMBER, user=person)

    page = signed_in.get(INDEX).content.decode()

    assert "Mine" in page and "Theirs" in page
    assert reverse("two_factor:workspace_policy", args=[mine.slug]) in page
    assert reverse("two_factor:workspace_policy", args=[theirs.slug]) not in page


@pytest.mark.parametrize("size", [3, 30])
def test_overview_query_count_does_not_grow_with_workspaces(signed_in, person, size, django_assert_num_queries):
    from permissions import catalog
    from tests.factories import add_member

    for n in range(size):
        add_member(make_workspace(UserFactory(), f"W{n}"), catalog.MEMBER, user=person)
    # session, user, memberships with workspaces and requirements, capabilities (2), device, codes,
    # passkeys
    with django_assert_num_queries(7):
        assert signed_in.get(INDEX).status_code == 200
