"""Provisioning's two limits: the role of each token (rule 3, never Owner), and the workspace's
verified domains (a directory cannot pull in someone else's account by sending its address)."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_delete, role_save
from scim.models import ScimToken, ScimUser
from scim.tokens import scim_token_create, scim_token_revoke, scim_token_set_role
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.models import JoinDomain, Membership

from .conftest import Scim, user_body, verify_domain

pytestmark = pytest.mark.django_db


def _role_in(workspace, email):
    membership = Membership.objects.select_related("role").filter(workspace=workspace, user__email=email).first()
    return membership.role if membership is not None else None


def _nothing_made(workspace, email):
    assert (
        not User.objects.filter(email=email).exists()
        or not Membership.objects.filter(workspace=workspace, user__email=email).exists()
    )
    assert not ScimUser.objects.filter(workspace=workspace, user__email=email).exists()


@pytest.fixture
def guest_role(workspace, owner):
    """A custom role with less than Member."""
    return role_save(actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="Guest", capabilities=set())


@pytest.fixture
def sso_manager(workspace, owner):
    """Someone who manages SCIM tokens (manage_sso) but holds little else."""
    role = role_save(
        actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="SSO manager", capabilities={"manage_sso"}
    )
    return add_member(workspace, role).user


# --- the token's role -------------------------------------------------------------------------------


def test_a_new_token_provisions_with_member_and_a_chosen_role_is_used(client, workspace, owner, acme_domain):
    _, member_raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    _, viewer_raw = scim_token_create(
        actor=owner, workspace=workspace, name="Contractors", role=builtin_role(catalog.VIEWER)
    )
    assert Scim(client, member_raw).post("Users", user_body("ann@acme.test")).status_code == 201
    assert Scim(client, viewer_raw).post("Users", user_body("bob@acme.test")).status_code == 201
    assert _role_in(workspace, "ann@acme.test").key == catalog.MEMBER
    assert _role_in(workspace, "bob@acme.test").key == catalog.VIEWER


def test_a_custom_role_is_given_and_an_existing_member_keeps_theirs(client, workspace, owner, acme_domain, guest_role):
    add_member(workspace, catalog.ADMIN, UserFactory(email="cat@acme.test"))
    _, raw = scim_token_create(actor=owner, workspace=workspace, name="Okta", role=guest_role)
    scim = Scim(client, raw)
    assert scim.post("Users", user_body("dan@acme.test")).status_code == 201
    assert scim.post("Users", user_body("cat@acme.test")).status_code == 201
    assert _role_in(workspace, "dan@acme.test") == guest_role
    assert _role_in(workspace, "cat@acme.test").key == catalog.ADMIN


def test_reactivation_joins_with_the_token_s_role_of_now(client, workspace, owner, acme_domain):
    token, raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    scim = Scim(client, raw)
    user_id = scim.post("Users", user_body("eve@acme.test")).json()["id"]
    scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": False})
    scim_token_set_role(actor=owner, token=token, role=builtin_role(catalog.VIEWER))
    assert scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": True}).status_code == 200
    assert _role_in(workspace, "eve@acme.test").key == catalog.VIEWER


def test_owner_is_never_a_provisioning_role(workspace, owner):
    with pytest.raises(RuleViolation):
        scim_token_create(actor=owner, workspace=workspace, name="Okta", role=builtin_role(catalog.OWNER))
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    with pytest.raises(RuleViolation):
        scim_token_set_role(actor=owner, token=token, role=builtin_role(catalog.OWNER))
    with pytest.raises(RuleViolation):  # the command line is refused Owner too
        scim_token_set_role(actor=None, token=token, role=builtin_role(catalog.OWNER))
    assert ScimToken.objects.get().role.key == catalog.MEMBER


def test_nobody_chooses_a_role_with_more_than_they_hold(workspace, owner, sso_manager):
    """Rule 3: someone with manage_sso but not Member's capabilities may not make Member the role."""
    with pytest.raises(RuleViolation):
        scim_token_create(actor=sso_manager, workspace=workspace, name="Okta", role=builtin_role(catalog.ADMIN))
    with pytest.raises(RuleViolation):
        scim_token_create(actor=sso_manager, workspace=workspace, name="Okta")  # Member, the default
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    with pytest.raises(RuleViolation):
        scim_token_set_role(actor=sso_manager, token=token, role=builtin_role(catalog.ADMIN))
    viewer = add_member(workspace, catalog.VIEWER).user
    with pytest.raises(PermissionDenied):
        scim_token_set_role(actor=viewer, token=token, role=builtin_role(catalog.VIEWER))
    assert not AuditEvent.objects.filter(action="scim_token.set_role").exists()


def test_another_workspace_s_role_is_refused(workspace, owner):
    elsewhere = make_workspace(name="Other")
    foreign = role_save(actor=None, workspace=elsewhere, scope=catalog.WORKSPACE, name="Theirs", capabilities=set())
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    with pytest.raises(RuleViolation):
        scim_token_set_role(actor=owner, token=token, role=foreign)
    with pytest.raises(RuleViolation):
        scim_token_set_role(actor=owner, token=token, role=builtin_role(catalog.SITE_ADMIN, catalog.SITE))


def test_the_role_change_is_audited_with_before_and_after(workspace, owner, guest_role):
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    scim_token_set_role(actor=owner, token=token, role=guest_role)
    event = AuditEvent.objects.get(action="scim_token.set_role")
    assert event.actor == owner and event.before["role"] == "Member" and event.after["role"] == "Guest"
    scim_token_revoke(actor=owner, token=token)
    with pytest.raises(RuleViolation):
        scim_token_set_role(actor=owner, token=token, role=builtin_role(catalog.VIEWER))


def test_when_whoever_chose_the_role_may_no_longer_give_it_nobody_new_is_provisioned(
    client, workspace, owner, acme_domain
):
    second_owner = add_member(workspace, catalog.OWNER).user
    _, raw = scim_token_create(actor=second_owner, workspace=workspace, name="Okta", role=builtin_role(catalog.ADMIN))
    Membership.objects.filter(workspace=workspace, user=second_owner).update(role=builtin_role(catalog.VIEWER))
    response = Scim(client, raw).post("Users", user_body("fay@acme.test"))
    assert response.status_code == 403 and "may no longer give it" in response.json()["detail"]
    _nothing_made(workspace, "fay@acme.test")


def test_a_custom_role_of_an_active_token_cannot_be_deleted_a_revoked_one_s_can(workspace, owner, guest_role):
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta", role=guest_role)
    with pytest.raises(RuleViolation, match="SCIM tokens"):
        role_delete(actor=owner, role=guest_role)
    scim_token_revoke(actor=owner, token=token)
    role_delete(actor=owner, role=guest_role)
    token.refresh_from_db()
    assert token.role is None and token.revoked_at is not None


def test_existing_tokens_keep_member_through_the_migration(workspace):
    token, _ = scim_token_create(actor=None, workspace=workspace, name="Okta")
    ScimToken.objects.filter(pk=token.pk).update(role=None)  # as a token made before tokens had a role
    migration = importlib.import_module("scim.migrations.0002_token_role")
    migration.existing_tokens_keep_member(django_apps, None)
    token.refresh_from_db()
    assert token.role.key == catalog.MEMBER and token.role.builtin


def test_the_command_takes_a_role_by_name_and_refuses_owner_and_unknown_roles(workspace, guest_role):
    out = StringIO()
    call_command("create_scim_token", workspace=workspace.slug, name="Okta", role="guest", stdout=out)
    assert ScimToken.objects.get().role == guest_role and "join as Guest" in out.getvalue()
    call_command("create_scim_token", workspace=workspace.slug, name="Entra", role="Viewer", stdout=StringIO())
    assert ScimToken.objects.get(name="Entra").role.key == catalog.VIEWER
    for wrong in ("Owner", "nope"):
        with pytest.raises(CommandError):
            call_command("create_scim_token", workspace=workspace.slug, name="X", role=wrong, stdout=StringIO())
    assert ScimToken.objects.count() == 2


# --- the settings page ------------------------------------------------------------------------------


def test_the_page_creates_with_a_role_and_changes_it(client, workspace, owner, guest_role):
    client.force_login(owner)
    url = reverse("scim_tokens:create", args=[workspace.slug])
    response = client.post(url, {"name": "Okta", "role": guest_role.pk})
    assert response.status_code == 200
    token = ScimToken.objects.get()
    assert token.role == guest_role and token.role_set_by == owner
    page = client.get(reverse("scim_tokens:list", args=[workspace.slug])).content.decode()
    assert reverse("scim_tokens:role", args=[workspace.slug, token.pk]) in page and "Guest" in page
    viewer = builtin_role(catalog.VIEWER)
    role_url = reverse("scim_tokens:role", args=[workspace.slug, token.pk])
    response = client.post(role_url, {"role": viewer.pk}, follow=True)
    assert "join as Viewer" in response.content.decode()
    token.refresh_from_db()
    assert token.role.key == catalog.VIEWER
    owner_role = builtin_role(catalog.OWNER)
    response = client.post(
        reverse("scim_tokens:role", args=[workspace.slug, token.pk]), {"role": owner_role.pk}, follow=True
    )
    assert "Choose one of the roles you may give." in response.content.decode()
    token.refresh_from_db()
    assert token.role.key == catalog.VIEWER


def test_the_page_offers_only_roles_the_person_may_give(client, workspace, sso_manager):
    client.force_login(sso_manager)
    page = client.get(reverse("scim_tokens:create", args=[workspace.slug])).content.decode()
    assert "SSO manager" in page and ">Member" not in page and ">Owner" not in page
    response = client.post(
        reverse("scim_tokens:create", args=[workspace.slug]), {"name": "Okta", "role": builtin_role(catalog.ADMIN).pk}
    )
    assert response.status_code == 200 and not ScimToken.objects.exists()


def test_the_role_control_needs_manage_sso(client, workspace, owner):
    token, _ = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    url = reverse("scim_tokens:role", args=[workspace.slug, token.pk])
    assert client.post(url, {"role": builtin_role(catalog.VIEWER).pk}).status_code == 403
    token.refresh_from_db()
    assert token.role.key == catalog.MEMBER


def test_the_page_says_which_domains_it_provisions_or_that_none_is_verified(client, workspace, owner):
    client.force_login(owner)
    url = reverse("scim_tokens:list", args=[workspace.slug])
    page = client.get(url).content.decode()
    assert "has none" in page and reverse("join_domains:index", args=[workspace.slug]) in page
    assert "no verified domain yet" in client.get(reverse("scim_tokens:create", args=[workspace.slug])).content.decode()
    verify_domain(workspace)
    page = client.get(url).content.decode()
    assert "<code>acme.test</code>" in page and "has none" not in page


# --- verified domains -------------------------------------------------------------------------------


def test_an_address_at_another_domain_is_refused_and_nothing_is_made(scim, workspace):
    response = scim.post("Users", user_body("mallory@evil.test"))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    assert "verified domains" in response.json()["detail"]
    assert not User.objects.filter(email="mallory@evil.test").exists()
    assert not ScimUser.objects.exists()


def test_an_existing_account_elsewhere_is_not_pulled_in(scim, workspace):
    """The attack: the directory sends the address of someone who has nothing to do with it."""
    victim = UserFactory(email="ceo@bigcorp.test")
    response = scim.post("Users", user_body("anything", emails=[{"value": victim.email, "primary": True}]))
    assert response.status_code == 400
    assert not Membership.objects.filter(workspace=workspace, user=victim).exists()
    assert not AuditEvent.objects.filter(action__in=["member.add", "scim_user.create"]).exists()


@pytest.mark.parametrize("state", ["pending", "suspended", "another workspace's"])
def test_only_verified_active_domains_of_this_workspace_count(scim, workspace, state):
    if state == "pending":
        JoinDomain.objects.create(
            workspace=workspace, domain="new.test", role=builtin_role(catalog.MEMBER), verification_token="t"
        )
    elif state == "suspended":
        domain = verify_domain(workspace, "new.test")
        JoinDomain.objects.filter(pk=domain.pk).update(suspended_at=timezone.now())
    else:
        verify_domain(make_workspace(name="Other"), "new.test")
    response = scim.post("Users", user_body("gil@new.test"))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    assert not User.objects.filter(email="gil@new.test").exists()


def test_a_subdomain_counts_when_its_domain_includes_subdomains(scim, workspace, acme_domain):
    assert scim.post("Users", user_body("hal@eu.acme.test")).status_code == 400
    JoinDomain.objects.filter(pk=acme_domain.pk).update(include_subdomains=True)
    assert scim.post("Users", user_body("hal@eu.acme.test")).status_code == 201


def test_a_workspace_without_a_verified_domain_provisions_nobody(client, workspace, owner):
    _, raw = scim_token_create(actor=owner, workspace=workspace, name="Okta")
    scim = Scim(client, raw)
    response = scim.post("Users", user_body("ivy@acme.test"))
    assert response.status_code == 400 and "no verified domain" in response.json()["detail"]
    assert not User.objects.filter(email="ivy@acme.test").exists()
    assert scim.get("Users").status_code == 200  # reading still works
    assert scim.post("Groups", {"displayName": "Ops"}).status_code == 201


def test_patch_and_put_may_not_move_the_address_to_another_domain(scim, workspace):
    user_id = scim.post("Users", user_body("jo@acme.test")).json()["id"]
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "userName", "value": "jo@evil.test"})
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    response = scim.put(f"Users/{user_id}", user_body("jo2@evil.test"))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
    assert User.objects.filter(scim_identities__scim_id=user_id, email="jo@acme.test").exists()
    assert ScimUser.objects.get(scim_id=user_id).user_name == "jo@acme.test"
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "userName", "value": "jo2@acme.test"})
    assert response.status_code == 200


def test_a_person_is_not_provisioned_again_once_their_domain_is_no_longer_verified(scim, workspace, acme_domain):
    user_id = scim.post("Users", user_body("kim@acme.test")).json()["id"]
    assert scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": False}).status_code == 200
    JoinDomain.objects.filter(pk=acme_domain.pk).update(suspended_at=timezone.now())
    response = scim.patch(f"Users/{user_id}", {"op": "replace", "path": "active", "value": True})
    assert response.status_code == 400
    assert not Membership.objects.filter(workspace=workspace, user__email="kim@acme.test").exists()
    assert scim.delete(f"Users/{user_id}").status_code == 204  # deprovisioning is always allowed
