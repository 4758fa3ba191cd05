"""Finding 8: one canonical e-mail address everywhere.

Each test is the attacker's move: an address spelt with fullwidth (or otherwise compatible)
characters, or an upper-case/Unicode domain, that the mail server delivers to the same mailbox as
the plain spelling. Whatever the door (sign-up, sign-in, reset, invites, the CSV import, the admin,
the check API), the portal must treat both spellings as one address.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as global_apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.addresses import normalize_email, validate_address
from accounts.models import User
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory, add_member, make_workspace
from workspaces.invites.services import invite_create
from workspaces.models import Invite, InviteSend

FULLWIDTH_VICTIM = "victim@ｂeta-inv.test"  # "ｂ" is U+FF42, FULLWIDTH LATIN SMALL LETTER B
VICTIM = "victim@beta-inv.test"
SIGNUP_PASSWORD = "a long and unusual passphrase"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        (FULLWIDTH_VICTIM, VICTIM),
        ("ＶＩＣＴＩＭ＠ＢＥＴＡ-INV.TEST", VICTIM),  # fullwidth "@" too
        ("  Victim@Beta-Inv.Test. ", VICTIM),
        ("x@Bücher.Example", "x@xn--bcher-kva.example"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("x@аcme.com", "x@xn--cme-5cd.com"),  # a Cyrillic "а" stays another domain
        ("K@acme.com", "k@acme.com"),  # KELVIN SIGN
    ],
)
def test_one_canonical_form(typed, canonical):
    assert normalize_email(typed) == canonical
    assert normalize_email(canonical) == canonical  # idempotent


def test_validation_is_of_the_canonical_form():
    assert validate_address(FULLWIDTH_VICTIM) == VICTIM
    with pytest.raises(Exception, match="valid"):
        validate_address("victim@beta_inv.test")


# --- invitations -----------------------------------------------------------------------------


def test_fullwidth_spelling_does_not_pass_the_per_address_limit(db, settings):
    settings.INVITE_LIMIT_PER_ADDRESS_PER_DAY = 1
    first, second = make_workspace(name="One"), make_workspace(name="Two")
    invite_create(actor=None, workspace=first, emails=[VICTIM], role=builtin_role(catalog.MEMBER))
    mail.outbox.clear()
    with pytest.raises(RuleViolation, match="limit for one address"):
        invite_create(actor=None, workspace=second, emails=[FULLWIDTH_VICTIM], role=builtin_role(catalog.MEMBER))
    assert not mail.outbox
    assert InviteSend.objects.count() == 1
    assert not Invite.objects.filter(workspace=second).exists()


def test_fullwidth_spelling_of_a_member_is_already_a_member(workspace):
    add_member(workspace, catalog.MEMBER, UserFactory(email=VICTIM))
    with pytest.raises(RuleViolation, match="already a member"):
        invite_create(actor=None, workspace=workspace, emails=[FULLWIDTH_VICTIM], role=builtin_role(catalog.MEMBER))
    assert not Invite.objects.exists()


def test_invitations_are_stored_and_mailed_to_the_canonical_address(workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = invite_create(
            actor=None, workspace=workspace, emails=[FULLWIDTH_VICTIM], role=builtin_role(catalog.MEMBER)
        )
    assert [invite.email for invite in result.invited] == [VICTIM]
    assert [message.to for message in mail.outbox] == [[VICTIM]]


def test_invite_bulk_sees_two_spellings_as_one_address(workspace, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email\nlook@csv.test\nlook@ｃsv.test\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "invite_bulk", "--workspace", workspace.slug, "--file", str(path), stdout=io.StringIO(), stderr=err
        )
    assert "line 2: look@csv.test is also on line 3" in err.getvalue()
    assert "line 3: look@csv.test is also on line 2" in err.getvalue()
    assert not Invite.objects.exists()


def test_invite_bulk_inviter_in_another_spelling(workspace, owner, tmp_path):
    owner.email = VICTIM
    owner.save(update_fields=["email"])
    path = tmp_path / "people.csv"
    path.write_text("email\nnew@acme.test\n", encoding="utf-8")
    call_command(
        "invite_bulk",
        "--workspace",
        workspace.slug,
        "--file",
        str(path),
        "--inviter",
        FULLWIDTH_VICTIM,
        "--no-email",
        stdout=io.StringIO(),
    )
    assert Invite.objects.get().invited_by == owner


# --- accounts --------------------------------------------------------------------------------


def test_account_made_with_a_fullwidth_address_can_sign_in(client, db, django_capture_on_commit_callbacks):
    typed = "aj10@ｅxample.com"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {"email": typed, "full_name": "AJ", "password": SIGNUP_PASSWORD, "password_again": SIGNUP_PASSWORD},
        )
    assert User.objects.get().email == "aj10@example.com"
    client.logout()
    for spelling in (typed, "AJ10@example.com"):
        response = client.post(reverse("accounts:login"), {"username": spelling, "password": SIGNUP_PASSWORD})
        assert response.status_code == 302, spelling
        assert client.session["_auth_user_id"] == str(User.objects.get().pk)
        client.logout()


def test_sign_up_in_a_fullwidth_spelling_of_an_existing_address_makes_no_second_account(
    client, db, django_capture_on_commit_callbacks
):
    UserFactory(email=VICTIM)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {
                "email": FULLWIDTH_VICTIM,
                "full_name": "M",
                "password": SIGNUP_PASSWORD,
                "password_again": SIGNUP_PASSWORD,
            },
        )
    assert list(User.objects.values_list("email", flat=True)) == [VICTIM]


def test_password_reset_in_a_fullwidth_spelling_reaches_the_account(client, db, django_capture_on_commit_callbacks):
    UserFactory(email=VICTIM)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": FULLWIDTH_VICTIM})
    assert [message.to for message in mail.outbox] == [[VICTIM]]


def test_admin_refuses_a_second_account_in_another_spelling(client, db):
    UserFactory(email=VICTIM)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": FULLWIDTH_VICTIM, "usable_password": "false", "password1": "", "password2": ""},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact=VICTIM).count() == 1
    assert User.objects.count() == 2


def test_admin_stores_the_canonical_spelling(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.post(
        reverse("admin:accounts_user_add"),
        {"email": "Someone@Ｅxample.com", "usable_password": "false", "password1": "", "password2": ""},
    )
    assert User.objects.filter(email="someone@example.com").exists()


# --- the check API ---------------------------------------------------------------------------


def test_check_api_answers_for_any_spelling_of_a_member(client, workspace):
    add_member(workspace, catalog.MEMBER, UserFactory(email=VICTIM))
    _, raw = key_create(actor=None, workspace=workspace, name="Service")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    answer = client.get("/api/v1/check", {"user": FULLWIDTH_VICTIM, "permission": "view_workspace"}, **auth)
    assert answer.json() == {"allowed": True}
    held = client.get(reverse("api:member_permissions", args=[FULLWIDTH_VICTIM]), **auth)
    assert held.status_code == 200
    assert "view_workspace" in held.json()["workspace"]


# --- the data migration ----------------------------------------------------------------------


@pytest.fixture
def migration():
    return importlib.import_module("accounts.migrations.0002_canonical_email_addresses")


def test_migration_normalises_stored_addresses(workspace, migration):
    role = builtin_role(catalog.MEMBER)
    User.objects.bulk_create([User(email="ＯＬＤ@ｅxample.com", password=PASSWORD)])  # as stored before
    Invite.objects.bulk_create(
        [
            Invite(
                workspace=workspace,
                email="Ｉnvited@Bücher.example",
                role=role,
                token_hash="x" * 64,
                expires_at="2099-01-01T00:00Z",
            )
        ]
    )
    InviteSend.objects.bulk_create([InviteSend(workspace=workspace, email="Ｉnvited@Bücher.example")])
    migration.canonicalise(global_apps, None)
    assert User.objects.filter(email="old@example.com").exists()
    assert Invite.objects.get().email == "invited@xn--bcher-kva.example"
    assert InviteSend.objects.get().email == "invited@xn--bcher-kva.example"


def test_migration_stops_with_a_report_on_a_collision(db, migration):
    User.objects.bulk_create([User(email=VICTIM), User(email=FULLWIDTH_VICTIM)])
    with pytest.raises(migration.AddressCollision) as caught:
        migration.canonicalise(global_apps, None)
    report = str(caught.value)
    assert VICTIM in report and FULLWIDTH_VICTIM in report
    assert "Nothing was changed" in report
    assert set(User.objects.values_list("email", flat=True)) == {VICTIM, FULLWIDTH_VICTIM}
