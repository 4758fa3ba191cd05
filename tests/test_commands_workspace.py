"""The operator commands ``create_workspace`` and ``demo`` (docs/RULES.md 5.2)."""

import re
from io import StringIO
from smtplib import SMTPException

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts.models import User
from audit.models import AuditEvent
from background.models import FailedTask
from permissions import catalog
from permissions.policy import Access
from tests.factories import PASSWORD, UserFactory
from workspaces.management.commands.demo import PASSWORD as DEMO_PASSWORD
from workspaces.models import Collaborator, Experience, Membership, Site, SiteGrant, Team, TeamMembership, Workspace

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):  # mail is queued when the command commits
        call_command(*args, stdout=out, **options)
    return out.getvalue()


def owner_membership(workspace: Workspace, email: str) -> Membership:
    return Membership.objects.select_related("role", "user").get(workspace=workspace, user__email__iexact=email)


# --- create_workspace --------------------------------------------------------------------------


def reset_link(message) -> tuple[str, str, str]:
    """(base URL, uidb64, token) of the reset link in a password-reset mail."""
    found = re.search(r"(https?://[^/\s]+)/\S*?/([0-9A-Za-z_\-]+)/([0-9A-Za-z]+-[0-9A-Za-z]+)/?\s", message.body + " ")
    assert found, message.body
    return found.groups()


def test_create_workspace_makes_new_account_owner_and_mails_a_working_reset_link():
    out = run("create_workspace", name="Acme Labs", owner=" New.Person@Example.COM ")

    user = User.objects.get(email="new.person@example.com")
    workspace = Workspace.objects.get(name="Acme Labs")
    assert out.strip().splitlines()[-1] == workspace.slug
    assert not user.has_usable_password()
    assert owner_membership(workspace, user.email).role.is_owner
    assert Access(user).has("manage_owners", workspace)
    assert AuditEvent.objects.filter(action="workspace.create", workspace=workspace).count() == 1
    assert AuditEvent.objects.filter(action="account.create", target_id=str(user.pk)).count() == 1

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    base, uidb64, token = reset_link(mail.outbox[0])
    assert base == "http://testserver"
    assert force_str(urlsafe_base64_decode(uidb64)) == str(user.pk)
    assert default_token_generator.check_token(user, token)


def test_new_owner_chooses_a_password_through_the_mailed_link_and_signs_in(client):
    run("create_workspace", name="Acme Labs", owner="new@example.com")
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    new_password = "a long and unusual passphrase 42"
    client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})

    user = User.objects.get(email="new@example.com")
    assert user.check_password(new_password)
    response = client.post(reverse("accounts:login"), {"username": "new@example.com", "password": new_password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_create_workspace_link_uses_portal_base_url(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    run("create_workspace", name="Acme Labs", owner="new@example.com")
    assert reset_link(mail.outbox[0])[0] == "https://portal.example.org"


def test_create_workspace_reuses_an_existing_account_without_mail():
    existing = UserFactory(email="ann@example.com")
    out = run("create_workspace", name="Ann's space", owner="ANN@example.com", verbosity=0)

    workspace = Workspace.objects.get(slug=out.strip())
    assert User.objects.filter(email__iexact="ann@example.com").count() == 1
    assert owner_membership(workspace, "ann@example.com").user == existing
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert mail.outbox == []


def test_create_workspace_gives_distinct_slugs_to_equal_names():
    first = run("create_workspace", name="Acme", owner="a@example.com", verbosity=0).strip()
    second = run("create_workspace", name="Acme", owner="b@example.com", verbosity=0).strip()
    assert first != second
    assert Workspace.objects.filter(name="Acme").count() == 2


@pytest.mark.parametrize("address", ["not-an-address", "two@@example.com", "", "a b@example.com"])
def test_create_workspace_refuses_a_bad_address_and_changes_nothing(address):
    with pytest.raises(CommandError, match="not a valid e-mail address"):
        run("create_workspace", name="Acme", owner=address)
    assert not Workspace.objects.exists()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_create_workspace_refuses_a_blank_name():
    with pytest.raises(CommandError, match="name"):
        run("create_workspace", name="   ", owner="new@example.com")
    assert not Workspace.objects.exists()
    assert not User.objects.exists()


def test_create_workspace_refuses_a_deactivated_account():
    UserFactory(email="gone@example.com", is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        run("create_workspace", name="Acme", owner="gone@example.com")
    assert not Workspace.objects.exists()


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPException("mail server down")


def test_create_workspace_mails_after_the_commit_and_a_failed_mail_is_recorded(settings):
    """The mail leaves after the commit: a mail server that is down does not undo the workspace.
    The mail task tries again, then gives up; the failure is kept (the admin's Failed tasks), without
    the link."""
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    run("create_workspace", name="Acme", owner="new@example.com")
    assert Workspace.objects.filter(name="Acme").exists()
    [failed] = FailedTask.objects.all()
    assert (failed.task_name, failed.exception, failed.message) == ("mail.send", "SMTPException", "mail server down")
    assert failed.retries == 6
    assert failed.summary == "<1 message(s) to 1 recipient(s)>"


# --- demo --------------------------------------------------------------------------------------

DEMO_MODELS = (User, Workspace, Membership, Site, Team, TeamMembership, SiteGrant, Experience, Collaborator, AuditEvent)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def test_demo_fills_a_workspace_with_every_builtin_role_sites_teams_and_experiences():
    run("demo", force=True)

    workspace = Workspace.objects.get(name="Acme Analytics")
    roles = set(Membership.objects.filter(workspace=workspace).values_list("role__key", flat=True))
    assert roles == {role.key for role in catalog.BUILTIN_WORKSPACE_ROLES}
    assert 3 <= Site.objects.filter(workspace=workspace).count() <= 4
    assert SiteGrant.objects.filter(site__workspace=workspace, team__isnull=False).exists()
    assert SiteGrant.objects.filter(site__workspace=workspace, membership__isnull=False).exists()
    assert TeamMembership.objects.filter(team__workspace=workspace).exists()
    assert Experience.objects.filter(workspace=workspace).count() >= 2
    assert Collaborator.objects.filter(experience__workspace=workspace).count() > Experience.objects.count()
    assert not User.objects.filter(email__endswith="@demo.test", email_verified_at__isnull=True).exists()
    # The stored guardian rows agree with the source tables: the demo went through the services.
    call_command("sync_permissions", check=True, stdout=StringIO())
    # A member of the Growth team edits the shop through the team's grant, a viewer only views it.
    shop = Site.objects.get(workspace=workspace, slug="shop")
    assert Access(User.objects.get(email="member@demo.test")).has("change_dashboards", shop)
    viewer = Access(User.objects.get(email="viewer@demo.test"))
    assert viewer.has("view_site", shop) and not viewer.has("change_dashboards", shop)


def test_demo_runs_twice_without_duplicates():
    run("demo", force=True)
    before = counts()
    run("demo", force=True)
    assert counts() == before
    assert Workspace.objects.filter(name="Acme Analytics").count() == 1


def test_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run("demo")
    assert not Workspace.objects.exists()
    assert not User.objects.exists()


def test_demo_runs_with_debug_on(settings):
    settings.DEBUG = True
    run("demo")
    assert Workspace.objects.filter(name="Acme Analytics").exists()


def test_demo_printed_credentials_sign_in(client):
    out = run("demo", force=True)

    password = re.search(r"^Password.*: (\S+)$", out, re.MULTILINE).group(1)
    emails = re.findall(r"^\s+(\S+@demo\.test)\s", out, re.MULTILINE)
    assert "owner@demo.test" in emails and len(emails) >= 5
    assert "http://testserver" + reverse("accounts:login") in out
    for email in emails:
        response = client.post(reverse("accounts:login"), {"username": email, "password": password})
        assert response.status_code == 302, email
        assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)
        client.logout()


def test_demo_owner_sees_the_demo_workspace_with_its_sites(client):
    run("demo", force=True)
    client.post(reverse("accounts:login"), {"username": "owner@demo.test", "password": DEMO_PASSWORD})
    workspace = Workspace.objects.get(name="Acme Analytics")
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 200
    for site in Site.objects.filter(workspace=workspace):
        assert site.name in response.content.decode()


def test_demo_restores_the_published_password_on_a_re_run(client):
    run("demo", force=True)
    owner = User.objects.get(email="owner@demo.test")
    owner.set_password("something else entirely")
    owner.save()
    out = run("demo", force=True)
    password = re.search(r"^Password.*: (\S+)$", out, re.MULTILINE).group(1)
    owner.refresh_from_db()
    assert owner.check_password(password)
