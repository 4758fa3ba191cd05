"""Join-domain services: add (verified at once by the actor's own address, or pending its DNS
record), update, remove; refusals (capability, public providers, invalid names, roles beyond the
actor's, one workspace per verified domain) and one audit event per change."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.selectors import domain_status
from workspaces.joining.services import (
    join_domain_add,
    join_domain_remove,
    join_domain_update,
)
from workspaces.models import JoinDomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


def member_role():
    return builtin_role(catalog.MEMBER)


def events(action: str):
    return list(AuditEvent.objects.filter(action=action))


def add(actor, workspace, domain="acme.test", **kwargs):
    kwargs.setdefault("role", member_role())
    return join_domain_add(actor=actor, workspace=workspace, domain=domain, **kwargs)


# --- verification at once, by the actor's own verified address --------------------------------


def test_own_verified_address_at_exactly_the_domain_verifies_at_once(owner, workspace):
    found = add(owner, workspace, "ACME.test", mode=JoinDomain.Mode.REQUEST, include_subdomains=True)
    assert found.domain == "acme.test"
    assert found.verified_at is not None and found.verification_method == JoinDomain.Method.EMAIL
    assert (found.mode, found.include_subdomains, found.added_by) == ("request", True, owner)
    (event,) = AuditEvent.objects.all().filter(action__startswith="join_domain")
    assert (event.action, event.actor, event.workspace_id) == ("join_domain.add", owner, workspace.pk)
    assert event.after["status"] == "verified" and event.after["method"] == "email"
    assert found.verification_token not in str(event.after)


def test_unverified_actor_address_does_not_verify(owner, workspace):
    owner.email_verified_at = None
    owner.save(update_fields=["email_verified_at"])
    found = add(owner, workspace)
    assert found.verified_at is None and domain_status(found) == "pending"
    assert len(found.verification_token) >= 32
    assert events("join_domain.add")[0].after["status"] == "pending"


@pytest.mark.parametrize("domain", ["other.test", "eu.acme.test", "acme.test.example"])
def test_address_at_another_domain_does_not_verify(owner, workspace, domain):
    assert add(owner, workspace, domain).verified_at is None


def test_address_at_a_subdomain_does_not_verify_the_parent(workspace):
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="ann@eu.acme.test")).user
    assert add(admin, workspace, "acme.test").verified_at is None


def test_the_system_adds_pending_domains(workspace):
    found = add(None, workspace)
    assert found.verified_at is None and found.added_by is None


# --- refusals: nothing written ----------------------------------------------------------------


def assert_refused(call, message: str):
    before = (JoinDomain.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuleViolation) as caught:
        call()
    assert message in " ".join(caught.value.messages)
    assert (JoinDomain.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    "domain", ["gmail.com", "GMAIL.com", "outlook.com", "hotmail.com", "proton.me", "eu.gmail.com"]
)
def test_public_providers_are_refused(owner, workspace, domain):
    assert_refused(lambda: add(owner, workspace, domain), "public e-mail provider")


@pytest.mark.parametrize("domain", ["acme", "acme..test", "-acme.test", "ada@acme.test", "https://acme.test", ""])
def test_invalid_names_are_refused(owner, workspace, domain):
    assert_refused(lambda: add(owner, workspace, domain), "domain name")


def test_the_same_domain_twice_in_a_workspace_is_refused(owner, workspace):
    add(owner, workspace)
    assert_refused(lambda: add(owner, workspace, " Acme.Test "), "already on this workspace's list")


def test_a_domain_verified_by_another_workspace_is_refused(owner, workspace):
    add(owner, workspace)
    other_owner = UserFactory(email="boss@acme.test")
    other = make_workspace(other_owner, "Acme Rival")
    assert_refused(lambda: add(other_owner, other), "already verified by another workspace")


def test_pending_in_two_workspaces_is_allowed_but_the_database_keeps_one_verified(workspace):
    first = add(None, workspace)
    second = add(None, make_workspace(name="Other"))
    JoinDomain.objects.filter(pk=first.pk).update(verified_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        JoinDomain.objects.filter(pk=second.pk).update(verified_at=timezone.now())


@pytest.mark.parametrize("role_key", [catalog.OWNER, catalog.ADMIN, catalog.BILLING_ADMIN])
def test_roles_above_member_are_refused(owner, workspace, role_key):
    assert_refused(lambda: add(owner, workspace, role=builtin_role(role_key)), "Member, Viewer or a custom role")


def test_a_site_role_or_another_workspaces_role_is_refused(owner, workspace):
    assert_refused(
        lambda: add(owner, workspace, role=builtin_role(catalog.EDITOR, catalog.SITE)), "not a workspace role"
    )
    other = make_workspace(name="Other")
    foreign = role_save(
        actor=None, workspace=other, scope=catalog.WORKSPACE, name="Guest", capabilities=["view_workspace"]
    )
    assert_refused(lambda: add(owner, workspace, role=foreign), "not a workspace role")


def test_a_custom_role_within_the_actors_reach_is_accepted_and_beyond_it_refused(owner, workspace):
    guest = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Guest", capabilities=["view_workspace"]
    )
    assert add(owner, workspace, role=guest).role == guest
    admin = add_member(workspace, catalog.ADMIN).user
    billing = role_save(
        actor=None, workspace=workspace, scope=catalog.WORKSPACE, name="Payer", capabilities=["manage_billing"]
    )
    assert_refused(lambda: add(admin, workspace, "other.test", role=billing), "capabilities you do not hold")


def test_an_unknown_mode_is_refused(owner, workspace):
    assert_refused(lambda: add(owner, workspace, mode="sometimes"), "not a joining mode")


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_people_without_manage_auto_join_are_refused(workspace, role_key):
    person = add_member(workspace, role_key, UserFactory(email=f"{role_key}@acme.test")).user
    with pytest.raises(PermissionDenied):
        add(person, workspace)
    outsider = UserFactory(email="out@acme.test")
    with pytest.raises(PermissionDenied):
        add(outsider, workspace)
    assert not JoinDomain.objects.exists()


def test_an_admin_may_manage_join_domains(workspace):
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="ann@acme.test")).user
    assert add(admin, workspace).verified_at is not None


# --- update and remove ----------------------------------------------------------------------------


def test_update_changes_and_audits_only_what_changed(owner, workspace):
    found = add(owner, workspace)
    viewer = builtin_role(catalog.VIEWER)
    join_domain_update(actor=owner, domain=found, mode=JoinDomain.Mode.REQUEST, role=viewer, include_subdomains=True)
    found.refresh_from_db()
    assert (found.mode, found.role, found.include_subdomains) == ("request", viewer, True)
    (event,) = events("join_domain.update")
    assert event.before == {"role": "Member", "mode": "automatic", "include_subdomains": False}
    assert event.after == {"role": "Viewer", "mode": "request", "include_subdomains": True}
    join_domain_update(actor=owner, domain=found, mode=JoinDomain.Mode.REQUEST, role=viewer, include_subdomains=True)
    assert len(events("join_domain.update")) == 1  # nothing changed, nothing recorded


def test_update_refusals_change_nothing(owner, workspace):
    found = add(owner, workspace)
    assert_refused(lambda: join_domain_update(actor=owner, domain=found, role=builtin_role(catalog.ADMIN)), "Member")
    assert_refused(lambda: join_domain_update(actor=owner, domain=found, mode="never"), "not a joining mode")
    member = add_member(workspace, catalog.MEMBER).user
    with pytest.raises(PermissionDenied):
        join_domain_update(actor=member, domain=found, mode=JoinDomain.Mode.REQUEST)
    found.refresh_from_db()
    assert (found.role.key, found.mode) == (catalog.MEMBER, "automatic")


def test_remove_deletes_frees_the_domain_and_audits_once(owner, workspace):
    found = add(owner, workspace)
    member = add_member(workspace, catalog.MEMBER).user
    with pytest.raises(PermissionDenied):
        join_domain_remove(actor=member, domain=found)
    join_domain_remove(actor=owner, domain=found)
    assert not JoinDomain.objects.exists()
    (event,) = events("join_domain.remove")
    assert event.before["domain"] == "acme.test" and event.actor == owner
    other_owner = UserFactory(email="boss@acme.test")
    assert add(other_owner, make_workspace(other_owner, "Acme Two")).verified_at is not None
