"""Nothing secret reaches the audit log, its page or its export: not invitation tokens, not access
keys, not passwords or password-reset and verification links, not two-factor secrets or backup
codes, not even their stored hashes.

The test runs the flows that handle secrets through their real doors (pages and services), picks
every secret out of the e-mails and responses, then searches every recorded event for each one.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.keys import key_create
from permissions.models import AccessKey
from permissions.roles import builtin_role
from tests.factories import add_member
from tests.twofactor_factories import enable_two_factor
from twofactor.services import backup_codes_regenerate
from workspaces.invites.services import InviteSpec, invite_accept, invite_create, invite_create_bulk, invite_resend
from workspaces.models import Invite

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new Pass phrase 42"
SIGNUP_PASSWORD = "sign-up Secret phrase 1234"


def links_in_outbox(pattern: str) -> list[str]:
    found = []
    for message in mail.outbox:
        found += re.findall(pattern, message.body)
    return found


def invite_tokens() -> list[str]:
    return links_in_outbox(r"/invites/([A-Za-z0-9_\-]+)/")


def run_the_secret_flows(client, workspace, owner, committed) -> list[str]:
    """Invite, resend, bulk-invite, accept; access keys by page and service; sign-up, verify,
    password change and reset; two-factor set-up and backup codes. Returns every secret seen."""
    secrets = []
    member_role = builtin_role(catalog.MEMBER)
    client.force_login(owner)
    with committed(execute=True):  # the e-mails go out once the transaction commits
        invite_create(
            actor=owner, workspace=workspace, emails=["newcomer@acme.test", "later@acme.test"], role=member_role
        )
    with committed(execute=True):
        invite_resend(actor=owner, invite=Invite.objects.get(email="later@acme.test"))
    with committed(execute=True):
        invite_create_bulk(actor=owner, workspace=workspace, specs=[InviteSpec("bulk@acme.test", member_role)])
    secrets += invite_tokens()
    assert len(secrets) == 4
    _, raw = key_create(actor=owner, workspace=workspace, name="Service")
    secrets.append(raw)
    page = client.post(reverse("access_keys:create", args=[workspace.slug]), {"name": "By page", "scopes": ["check"]})
    secrets.append(page.context["raw_key"])
    client.logout()

    # A newcomer signs up through the page, verifies the address, accepts the invitation.
    mail.outbox.clear()
    signup = {
        "email": "newcomer@acme.test",
        "full_name": "New Comer",
        "password": SIGNUP_PASSWORD,
        "password_again": SIGNUP_PASSWORD,
    }
    with committed(execute=True):
        assert client.post(reverse("accounts:signup"), signup).status_code == 302
    secrets.append(SIGNUP_PASSWORD)
    verify_tokens = links_in_outbox(r"/accounts/verify/([^/\s]+)/")
    assert verify_tokens
    secrets += verify_tokens
    assert client.get(reverse("accounts:verify", args=[verify_tokens[0]])).status_code == 200
    newcomer = User.objects.get(email="newcomer@acme.test")
    invite_accept(invite_token=secrets[0], user=newcomer)
    # Sign-up signs nobody in (it answers the same for a taken address): sign in with the password.
    signin = {"username": "newcomer@acme.test", "password": SIGNUP_PASSWORD}
    assert client.post(reverse("accounts:login"), signin).status_code == 302

    # A password change, then a reset through the e-mailed link.
    change = {"old_password": SIGNUP_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(reverse("accounts:password_change"), change).url == reverse("accounts:password_change_done")
    secrets.append(NEW_PASSWORD)
    client.logout()
    mail.outbox.clear()
    with committed(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "newcomer@acme.test"})
    (uid, token), *_ = links_in_outbox(r"/accounts/password/reset/([^/\s]+)/([^/\s]+)/")
    secrets.append(token)
    reset_page = client.get(reverse("accounts:password_reset_confirm", args=[uid, token]), follow=True)
    reset = {"new_password1": NEW_PASSWORD + "!", "new_password2": NEW_PASSWORD + "!"}
    assert client.post(reset_page.redirect_chain[-1][0], reset).status_code == 302
    secrets.append(NEW_PASSWORD + "!")

    # Two-factor authentication: the app's secret and the backup codes.
    device, codes = enable_two_factor(newcomer)
    secrets += [device.key, *codes]
    secrets += backup_codes_regenerate(user=newcomer, token=codes[0])

    # What is stored instead of the secrets must not be copied into the log either.
    secrets += list(Invite.objects.values_list("token_hash", flat=True))
    secrets += list(AccessKey.objects.values_list("key_hash", flat=True))
    secrets += [user.password for user in User.objects.all()]
    return secrets


def test_no_secret_in_any_audit_event_nor_on_the_activity_page_or_export(
    client, workspace, owner, django_capture_on_commit_callbacks
):
    secrets = run_the_secret_flows(client, workspace, owner, django_capture_on_commit_callbacks)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    # The flows did run and were recorded (so the search below searched something).
    assert {
        "invite.create",
        "invite.resend",
        "access_key.create",
        "account.signup",
        "invite.accept",
        "account.two_factor_enable",
        "account.backup_codes_regenerate",
    } <= actions
    recorded = [
        repr(row)
        for row in AuditEvent.objects.values_list(
            "before", "after", "target_repr", "target_id", "actor_email", "workspace_name", "action"
        )
    ]
    log_text = "\n".join(recorded)
    for secret in secrets:
        assert secret and secret not in log_text, f"a secret ({secret[:6]}…) was recorded"
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    page = client.get(reverse("activity:index", args=[workspace.slug])).content.decode()
    export = b"".join(client.get(reverse("activity:export", args=[workspace.slug])).streaming_content).decode()
    assert "invite.accept" in export
    for secret in secrets:
        assert secret not in page and secret not in export
