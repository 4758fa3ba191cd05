"""A person's own account: changing their address (a link to the new one, the old one told) and
deleting the account (password and typed word; refused for a last owner or a site owner)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import EmailChange, User
from accounts.selectors import token_hash
from accounts.services import email_change_confirm, email_change_request
from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import PASSWORD, UserFactory, add_member, make_site, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/accounts/email/confirm/([A-Za-z0-9_-]+)/")


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@old.test", full_name="Ann")


def ask(client, user, new_email, password=PASSWORD, capture=None):
    client.force_login(user)
    data = {"new_email": new_email, "password": password}
    if capture is None:
        return client.post(reverse("accounts:email_change"), data, follow=True)
    with capture(execute=True):
        return client.post(reverse("accounts:email_change"), data, follow=True)


# --- changing one's address ------------------------------------------------------------------------


def test_the_address_changes_only_when_the_link_to_the_new_one_is_opened(
    client, ann, django_capture_on_commit_callbacks
):
    response = ask(client, ann, " Ann@NEW.test ", capture=django_capture_on_commit_callbacks)
    assert "We sent a link to ann@new.test" in response.content.decode()
    assert "Waiting for you to open the link we sent to ann@new.test" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["ann@new.test"]
    token = LINK.search(message.body).group(1)
    assert token not in EmailChange.objects.get().token_hash  # only the hash is stored
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"
    page = client.get(reverse("accounts:email_change_confirm", args=[token]))
    assert "Make ann@new.test your address?" in page.content.decode()
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"  # opening the link changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:email_change_confirm", args=[token]), follow=True)
    assert "Your e-mail address is now ann@new.test" in response.content.decode()
    ann.refresh_from_db()
    assert (ann.email, ann.email_verified) == ("ann@new.test", True)
    assert mail.outbox[-1].to == ["ann@old.test"] and "is now ann@new.test" in mail.outbox[-1].body
    event = AuditEvent.objects.get(action="account.email_change")
    assert (event.before, event.after) == ({"email": "ann@old.test"}, {"email": "ann@new.test"})
    assert AuditEvent.objects.filter(action="account.email_change_request").count() == 1
    assert client.post(reverse("accounts:email_change_confirm", args=[token])).status_code == 404  # once


def test_a_wrong_password_or_a_taken_address_changes_nothing(client, ann):
    UserFactory(email="taken@new.test")
    assert "not your current password" in ask(client, ann, "ann@new.test", password="wrong").content.decode()
    assert "Another account has this e-mail address" in ask(client, ann, "TAKEN@new.test").content.decode()
    assert "already your address" in ask(client, ann, "ANN@old.test").content.decode()
    assert not EmailChange.objects.exists() and not mail.outbox


def known_link(user, new_email: str) -> str:
    """Ask through the service and give the request a token the test knows (the real one is only mailed)."""
    email_change_request(user=user, new_email=new_email, password=PASSWORD)
    EmailChange.objects.filter(user=user).update(token_hash=token_hash("known-token"))
    return "known-token"


def test_an_expired_link_changes_nothing(ann):
    token = known_link(ann, "ann@new.test")
    EmailChange.objects.update(expires_at=timezone.now())
    with pytest.raises(RuleViolation, match="expired"):
        email_change_confirm(user=ann, token=token)
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"


def test_a_newer_request_kills_the_older_link(client, ann, django_capture_on_commit_callbacks):
    ask(client, ann, "first@new.test", capture=django_capture_on_commit_callbacks)
    first = LINK.search(mail.outbox[-1].body).group(1)
    ask(client, ann, "second@new.test", capture=django_capture_on_commit_callbacks)
    assert client.post(reverse("accounts:email_change_confirm", args=[first])).status_code == 404
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"


def test_another_account_cannot_use_the_link(client, ann, django_capture_on_commit_callbacks):
    ask(client, ann, "ann@new.test", capture=django_capture_on_commit_callbacks)
    token = LINK.search(mail.outbox[-1].body).group(1)
    client.force_login(UserFactory())
    assert client.post(reverse("accounts:email_change_confirm", args=[token])).status_code == 404
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"


def test_an_address_taken_meanwhile_is_refused_at_the_link(client, ann, django_capture_on_commit_callbacks):
    ask(client, ann, "ann@new.test", capture=django_capture_on_commit_callbacks)
    token = LINK.search(mail.outbox[-1].body).group(1)
    UserFactory(email="ann@new.test")
    response = client.post(reverse("accounts:email_change_confirm", args=[token]), follow=True)
    assert "Another account has this e-mail address" in response.content.decode()
    assert User.objects.get(pk=ann.pk).email == "ann@old.test"


def test_a_verified_new_address_joins_by_its_domain(ann, owner, workspace):
    join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    email_change_confirm(user=ann, token=known_link(ann, "ann@acme.test"))
    assert Membership.objects.filter(workspace=workspace, user=ann, role__key=catalog.VIEWER).exists()


# --- deleting one's account ------------------------------------------------------------------------


def close(client, user, *, password=PASSWORD, confirmation="DELETE"):
    client.force_login(user)
    return client.post(reverse("account_close"), {"password": password, "confirmation": confirmation}, follow=True)


def test_a_member_deletes_their_account(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER, user=UserFactory(email="mia@acme.test"))
    other = make_workspace(UserFactory(), "Other")
    add_member(other, catalog.VIEWER, user=member.user)
    client.force_login(member.user)
    assert reverse("account_close") in client.get(reverse("accounts:profile")).content.decode()
    response = close(client, member.user)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "Your account is deleted" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert not User.objects.filter(email="mia@acme.test").exists()
    assert AuditEvent.objects.filter(action="member.leave", actor_email="mia@acme.test").count() == 2
    event = AuditEvent.objects.get(action="account.close")
    assert event.actor is None and event.after == {"account_id": member.user_id, "workspaces_left": 2}
    assert "mia@acme.test" not in (event.target_repr + str(event.after) + str(event.before))


@pytest.mark.parametrize("password, confirmation", [("wrong", "DELETE"), (PASSWORD, "delete"), (PASSWORD, "")])
def test_a_wrong_password_or_word_deletes_nothing(client, workspace, password, confirmation):
    member = add_member(workspace, catalog.MEMBER).user
    response = close(client, member, password=password, confirmation=confirmation)
    assert response.status_code == 200
    assert User.objects.filter(pk=member.pk).exists()
    assert Membership.objects.filter(user=member).exists()
    assert not AuditEvent.objects.filter(action__in=["account.close", "member.leave"]).exists()


def test_the_last_owner_is_refused_naming_the_workspace(client, workspace, owner):
    client.force_login(owner)
    page = client.get(reverse("account_close")).content.decode()
    assert "You are the last owner of “Acme”" in page and "Delete my account" not in page
    response = close(client, owner)
    assert "You are the last owner of “Acme”" in response.content.decode()
    assert User.objects.filter(pk=owner.pk).exists() and Membership.objects.filter(user=owner).exists()


def test_an_owner_with_another_owner_may_go(client, workspace, owner):
    add_member(workspace, catalog.OWNER)
    close(client, owner)
    assert not User.objects.filter(pk=owner.pk).exists()


def test_a_site_owner_is_refused_naming_the_site(client, workspace):
    member = add_member(workspace, catalog.ADMIN)
    make_site(workspace, "Shop", owner=member)
    response = close(client, member.user)
    assert "You own the sites “Shop” (Acme)" in response.content.decode()
    assert User.objects.filter(pk=member.user_id).exists()


def test_an_account_in_no_workspace_is_deleted(client):
    loner = UserFactory()
    close(client, loner)
    assert not User.objects.filter(pk=loner.pk).exists()
