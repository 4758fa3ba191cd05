"""Finding 16: sign-in and sign-up cost. Passwords are hashed with Argon2id; hashes made before
(PBKDF2) still verify, and are replaced by Argon2id at their owner's next sign-in.

The test settings hash with MD5 for speed, so these tests put the real list back themselves.
"""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

PASSWORD = "an old but good passphrase"


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = importlib.import_module("portal.settings.base").PASSWORD_HASHERS
    return settings.PASSWORD_HASHERS


def test_argon2id_is_the_hasher_and_pbkdf2_still_verifies(real_hashers):
    assert get_hasher("default").algorithm == "argon2"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in real_hashers[1:]
    assert make_password(PASSWORD).startswith("argon2$argon2id$")


def test_an_old_pbkdf2_hash_is_upgraded_at_sign_in(client, db, real_hashers):
    user = UserFactory(email="old@acme.test")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    response = client.post(reverse("accounts:login"), {"username": "old@acme.test", "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def test_a_failed_sign_in_does_not_touch_the_old_hash(client, db, real_hashers):
    user = UserFactory(email="old@acme.test")
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=user.pk).update(password=old)
    client.post(reverse("accounts:login"), {"username": "old@acme.test", "password": "not the password"})
    user.refresh_from_db()
    assert user.password == old


def test_a_new_account_gets_an_argon2id_hash(db, real_hashers):
    from accounts.services import account_signup

    user = account_signup(email="new@acme.test", full_name="New", password=PASSWORD, send_verification=False)
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
