"""docs/RULES.md 4.8 (audit log): every change is recorded once. For every public service function, one
change writes exactly one audit event (the right action, actor, target and workspace) and a call
that changes nothing (a repeat, or refused input) writes none.

The service functions are found, not listed: the ``services`` module of every feature package of ``workspaces``, every
``<app>.services`` of the project's apps, and every other project module that writes audit events
(admin and commands aside). ``test_every_service_function_has_a_test`` fails for a public function
that has neither a test here (``@covers``) nor a line in ``NOT_CHANGES`` saying why it changes
nothing worth recording; a new service must join one of the two.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import EmailChange, User
from accounts.selectors import token_hash
from audit.context import system_acting
from audit.models import AuditEvent
from billing import services as billing
from billing import staff as billing_staff
from billing.models import Invoice, PlanChangeRequest
from kernel.errors import RuleViolation
from permissions import catalog, keys
from permissions import services as role_services
from permissions.roles import builtin_role
from privacy import services as privacy
from privacy.models import DataRequest
from scim import protocol as scim_protocol
from scim import services as scim_services
from scim import tokens as scim_tokens
from sso import saml_services
from sso import services as sso
from tests.dns_server import serving
from tests.factories import PASSWORD, UserFactory, add_member, make_experience, make_site, make_team, make_workspace
from tests.passkey_factories import SoftPasskey, add_passkey, registration_options
from tests.settings_factories import POLICY
from tests.twofactor_factories import code_for, enable_two_factor
from twofactor import services as two_factor
from webhooks import delivery as webhook_delivery
from webhooks import services as webhooks
from webhooks.models import Delivery as WebhookDelivery
from workspace_settings import services as ws_settings
from workspaces.experiences import services as experiences
from workspaces.invites import services as invites
from workspaces.invites.writes import hash_token
from workspaces.joining import services as join_domains
from workspaces.joining.dns import txt_record_value
from workspaces.models import Invite, JoinDomain, JoinRequest, Membership, SiteGrant, TeamMembership
from workspaces.overview import services as workspaces
from workspaces.people import bulk as people_bulk
from workspaces.people import closing, deactivation
from workspaces.people import services as members
from workspaces.sites import services as sites
from workspaces.teams import services as teams
from workspaces.viewer_groups import services as viewer_groups

pytestmark = pytest.mark.django_db

# --- which functions are services ------------------------------------------------------------------

# Modules of helpers that the services call; they write nothing on their own.
HELPER_MODULES = {
    "kernel.services": "capability checks, slugs and the workspace lock",
    "workspaces.invites.checks": "the checks of an invitation batch, before anything is written",
    "workspaces.invites.writes": "the bulk writes of invite_create*, tested through them (record_many)",
    "workspaces.invites.staged": "the bulk writes of invite_create_bulk, tested through it (record_many)",
}

# Public functions of service modules that change nothing that belongs in the audit log, and why.
NOT_CHANGES = {
    # The ID of a SAML assertion accepted at the ACS, kept so a replay is refused; the sign-in or
    # the refusal it leads to is what is recorded (sso.sign_in / sso.refused).
    "sso.saml_services.saml_assertion_use": "keeps a used assertion ID against replays",
    # Reads only: what a connection's group mapping would change at a sign-in (a connection test
    # shows it); the changes themselves go through the membership and team services.
    "sso.services.group_mapping_plan": "reads what a group mapping would change",
    # A background task that gave up, kept for the admin's failed-task list: an operational record,
    # not a change to anyone's access or settings.
    "background.services.task_failed": "keeps a failed background task for the admin",
    "background.services.record_task_failure": "Celery's task_failure receiver that calls task_failed",
    "workspaces.joining.services.auto_join_on_verify": "the receiver that calls auto_join, which has its own test",
    "workspaces.viewer_groups.services.clean_addresses": "input cleaning",
    # Outside viewers proving an address to open a published experience: no access is granted in
    # the workspace (the groups, which are audited, decide), so no event.
    "workspaces.viewer_groups.link_services.grant_session": "marks the visitor's own session",
    "workspaces.viewer_groups.link_services.link_max_age": "a setting",
    "workspaces.viewer_groups.link_services.sends_per_hour": "a setting",
    "workspaces.viewer_groups.link_services.viewer_link_request": "e-mails a visitor a one-time link",
    "workspaces.viewer_groups.link_services.viewer_link_redeem": "uses up a visitor's one-time link",
    "workspaces.viewer_groups.link_services.viewer_link_url": "a helper",
    "permissions.services.clean_capabilities": "input cleaning",
    "permissions.keys.authenticate_key": "notes a key's last use (a use, not a change)",
    "scim.tokens.authenticate_token": "notes a token's last use (a use, not a change)",
    "permissions.keys.count_check_call": "counts a check-API call on the key's day row (a use, not a change)",
    "workspaces.people.closing.close_refusals": "a read: why an account cannot be deleted yet",
    "accounts.services.verification_resend": "sends an e-mail, changes nothing",
    "accounts.services.password_reset_request": "sends an e-mail, changes nothing (the new password is set later)",
    "accounts.services.clean_new_email": "input cleaning",
    "billing.services.account_for_update": "makes the default billing row inside the calling service's change",
    "billing.services.normalize_vat_id": "input cleaning",
    "twofactor.services.two_factor_setup_start": "an unconfirmed device: nothing changes until two_factor_confirm",
    "webhooks.services.new_secret": "a helper",
    "webhooks.services.event_type_choices": "a read",
    "webhooks.delivery.backoff": "a helper",
    "webhooks.delivery.body_of": "a helper",
    "webhooks.delivery.signed_headers": "a helper",
}

COVERED: dict[str, str] = {}


def covers(*functions: Callable) -> Callable:
    """Register the test as the one for these service functions."""

    def register(test):
        for function in functions:
            COVERED[f"{function.__module__}.{function.__name__}"] = test.__name__
        return test

    return register


def _project_modules() -> Iterator[str]:
    """Every module of the project's apps that may hold services."""
    base = Path(settings.BASE_DIR)
    for config in apps.get_app_configs():
        if Path(config.path).parent != base or config.name == "audit":  # the project's own apps only
            continue
        for path in Path(config.path).rglob("*.py"):
            parts = path.relative_to(base).with_suffix("").parts
            if {"migrations", "management", "admin", "tests"} & set(parts) or parts[-1] in ("admin", "__init__"):
                continue
            yield ".".join(parts)


def service_modules() -> list[str]:
    """``*.services`` modules and packages, and any other module that writes audit events."""
    found = set()
    for name in _project_modules():
        parts = name.split(".")
        if "services" in parts or parts[-1].endswith("_services"):
            found.add(name)
            continue
        # Read, not imported: the project's own app (portal) also holds the settings modules.
        source = Path(settings.BASE_DIR, *parts).with_suffix(".py").read_text()
        if "audit.services import" in source:
            found.add(name)
    return sorted(found - set(HELPER_MODULES))


def public_functions(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [
        f"{module_name}.{name}"
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module_name and not name.startswith("_")
    ]


def test_the_discovery_finds_the_known_services():
    modules = service_modules()
    for expected in ("workspaces.people.services", "permissions.keys", "accounts.services", "billing.staff"):
        assert expected in modules
    assert "workspaces.people.services.member_change_role" in public_functions("workspaces.people.services")
    assert not any("common" in name for name in modules)
    # every feature package of workspaces that has services is found
    import workspaces as package

    features = {m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg}
    with_services = {f for f in features if importlib.util.find_spec(f"workspaces.{f}.services")}
    assert {f"workspaces.{f}.services" for f in with_services} <= set(modules)
    assert "workspaces.people.deactivation" in modules


def test_every_service_function_has_a_test():
    functions = [f for module in service_modules() for f in public_functions(module)]
    missing = [f for f in functions if f not in COVERED and f not in NOT_CHANGES]
    assert not missing, (
        "Service functions without an audit test: add a test with @covers(...) to "
        f"tests/test_audit_per_service.py, or a reason to NOT_CHANGES: {missing}"
    )
    stale = [f for f in list(COVERED) + list(NOT_CHANGES) if f not in functions]
    assert not stale, f"Entries for functions that are gone or no longer public: {stale}"


# --- checking the events ---------------------------------------------------------------------------


@contextmanager
def recorded() -> Iterator[list[AuditEvent]]:
    """The events written inside the block, oldest first."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    events: list[AuditEvent] = []
    yield events
    events.extend(AuditEvent.objects.filter(id__gt=last).order_by("id"))


def ref(obj) -> tuple[str, str]:
    """What an event records of its target; taken before a delete, which forgets the pk."""
    return (obj._meta.model_name, str(obj.pk))


def assert_event(event: AuditEvent, action: str, *, actor, target, workspace) -> None:
    assert event.action == action
    assert (event.actor_id, event.actor_email) == ((actor.pk, actor.email) if actor is not None else (None, ""))
    expected = ref(target) if target is not None and not isinstance(target, tuple) else target
    assert (event.target_type, event.target_id) == (expected or ("", ""))
    assert event.workspace_id == (workspace.pk if workspace is not None else None)


def assert_one(events: list[AuditEvent], action: str, *, actor, target, workspace) -> None:
    assert [e.action for e in events] == [action], "one change, one event"
    assert_event(events[0], action, actor=actor, target=target, workspace=workspace)


@contextmanager
def nothing_recorded(refused: type[Exception] | None = None) -> Iterator[None]:
    """The block writes no event; with ``refused``, it raises that (bad input, missing capability)."""
    with recorded() as events:
        if refused is None:
            yield
        else:
            with pytest.raises(refused):
                yield
    assert events == []


@pytest.fixture
def w(workspace, owner):
    return SimpleNamespace(
        workspace=workspace,
        owner=owner,
        member=add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test")),
        viewer=add_member(workspace, catalog.VIEWER).user,
        site=make_site(workspace),
        experience=make_experience(workspace, creator=owner),
        team=make_team(workspace),
    )


# --- members ---------------------------------------------------------------------------------------


@covers(members.member_add)
def test_member_add(w):
    user = UserFactory()
    with recorded() as events:
        membership = members.member_add(workspace=w.workspace, user=user, role=builtin_role(catalog.MEMBER), actor=user)
    assert_one(events, "member.join", actor=user, target=membership, workspace=w.workspace)
    with nothing_recorded():
        members.member_add(workspace=w.workspace, user=user, role=builtin_role(catalog.VIEWER), actor=user)


@covers(members.member_change_role)
def test_member_change_role(w):
    viewer = builtin_role(catalog.VIEWER)
    with recorded() as events:
        members.member_change_role(actor=w.owner, membership=w.member, role=viewer)
    assert_one(events, "member.role_change", actor=w.owner, target=w.member, workspace=w.workspace)
    with nothing_recorded():
        members.member_change_role(actor=w.owner, membership=w.member, role=viewer)
    with nothing_recorded(PermissionDenied):
        members.member_change_role(actor=w.viewer, membership=w.member, role=builtin_role(catalog.MEMBER))


@covers(members.member_remove)
def test_member_remove(w):
    target = ref(w.member)
    with recorded() as events:
        members.member_remove(actor=w.owner, membership=w.member)
    assert_one(events, "member.remove", actor=w.owner, target=target, workspace=w.workspace)
    with nothing_recorded(RuleViolation):  # the last owner stays
        members.member_remove(actor=None, membership=Membership.objects.get(user=w.owner))


@covers(members.member_leave)
def test_member_leave(w):
    target = ref(w.member)
    with recorded() as events:
        members.member_leave(membership=w.member)
    assert_one(events, "member.leave", actor=w.member.user, target=target, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        members.member_leave(membership=Membership.objects.get(user=w.owner))


@covers(members.ownership_transfer)
def test_ownership_transfer(w):
    with recorded() as events:
        members.ownership_transfer(actor=w.owner, workspace=w.workspace, to=w.member)
    assert_one(events, "ownership.grant", actor=w.owner, target=w.member, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        members.ownership_transfer(actor=w.owner, workspace=w.workspace, to=w.member)


# --- sites -----------------------------------------------------------------------------------------


@covers(sites.site_create)
def test_site_create(w):
    with recorded() as events:
        site = sites.site_create(actor=w.owner, workspace=w.workspace, name="Blog", slug="blog")
    assert_one(events, "site.create", actor=w.owner, target=site, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        sites.site_create(actor=w.owner, workspace=w.workspace, name="Blog again", slug="blog")


@covers(sites.site_update)
def test_site_update(w):
    with recorded() as events:
        sites.site_update(actor=w.owner, site=w.site, name="Renamed")
    assert_one(events, "site.update", actor=w.owner, target=w.site, workspace=w.workspace)
    with nothing_recorded():
        sites.site_update(actor=w.owner, site=w.site, name="Renamed")


@covers(sites.site_delete)
def test_site_delete(w):
    blog = sites.site_create(actor=w.owner, workspace=w.workspace, name="Blog")
    with nothing_recorded(PermissionDenied):
        sites.site_delete(actor=w.viewer, site=blog)
    target = ref(blog)
    with recorded() as events:
        sites.site_delete(actor=w.owner, site=blog)
    assert_one(events, "site.delete", actor=w.owner, target=target, workspace=w.workspace)


@covers(sites.site_reset)
def test_site_reset(w):
    with nothing_recorded(PermissionDenied):
        sites.site_reset(actor=w.viewer, site=w.site)
    with recorded() as events:
        sites.site_reset(actor=w.owner, site=w.site)
    assert_one(events, "site.reset", actor=w.owner, target=w.site, workspace=w.workspace)


@covers(sites.site_owner_set)
def test_site_owner_set(w):
    with recorded() as events:
        sites.site_owner_set(actor=w.owner, site=w.site, owner=w.member)
    assert_one(events, "site.owner_change", actor=w.owner, target=w.site, workspace=w.workspace)
    with nothing_recorded():
        sites.site_owner_set(actor=w.owner, site=w.site, owner=w.member)


@covers(sites.site_set_session_capture)
def test_site_set_session_capture(w):
    with recorded() as events:
        sites.site_set_session_capture(actor=w.owner, site=w.site, enabled=True)
    assert_one(events, "site.session_capture", actor=w.owner, target=w.site, workspace=w.workspace)
    with nothing_recorded():
        sites.site_set_session_capture(actor=w.owner, site=w.site, enabled=True)


@covers(sites.site_grant_set)
def test_site_grant_set(w):
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    with recorded() as events:
        sites.site_grant_set(actor=w.owner, site=w.site, role=editor, membership=w.member)
    assert_one(events, "site_grant.set", actor=w.owner, target=w.site, workspace=w.workspace)
    with nothing_recorded():
        sites.site_grant_set(actor=w.owner, site=w.site, role=editor, membership=w.member)


@covers(sites.site_grant_revoke)
def test_site_grant_revoke(w):
    grant = sites.site_grant_set(
        actor=w.owner, site=w.site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=w.member
    )
    with nothing_recorded(PermissionDenied):
        sites.site_grant_revoke(actor=w.viewer, grant=grant)
    with recorded() as events:
        sites.site_grant_revoke(actor=w.owner, grant=grant)
    assert_one(events, "site_grant.revoke", actor=w.owner, target=w.site, workspace=w.workspace)
    assert not SiteGrant.objects.exists()


# --- experiences and collaborators -----------------------------------------------------------------


@covers(experiences.experience_create)
def test_experience_create(w):
    with recorded() as events:
        experience = experiences.experience_create(actor=w.owner, workspace=w.workspace, title="Spring sale")
    assert_one(events, "experience.create", actor=w.owner, target=experience, workspace=w.workspace)
    other_site = make_site(make_workspace(name="Other"), "Theirs")
    with nothing_recorded(RuleViolation):
        experiences.experience_create(actor=w.owner, workspace=w.workspace, title="Nope", site=other_site)


@covers(experiences.experience_update)
def test_experience_update(w):
    with recorded() as events:
        experiences.experience_update(actor=w.owner, experience=w.experience, title="New title")
    assert_one(events, "experience.update", actor=w.owner, target=w.experience, workspace=w.workspace)
    with nothing_recorded():
        experiences.experience_update(actor=w.owner, experience=w.experience, title="New title")


@covers(experiences.experience_publish)
def test_experience_publish(w):
    with recorded() as events:
        experiences.experience_publish(actor=w.owner, experience=w.experience)
    assert_one(events, "experience.publish", actor=w.owner, target=w.experience, workspace=w.workspace)
    with nothing_recorded():
        experiences.experience_publish(actor=w.owner, experience=w.experience)


@covers(experiences.experience_delete)
def test_experience_delete(w):
    with nothing_recorded(PermissionDenied):
        experiences.experience_delete(actor=w.viewer, experience=w.experience)
    target = ref(w.experience)
    with recorded() as events:
        experiences.experience_delete(actor=w.owner, experience=w.experience)
    assert_one(events, "experience.delete", actor=w.owner, target=target, workspace=w.workspace)


@covers(experiences.collaborator_add)
def test_collaborator_add(w):
    with recorded() as events:
        experiences.collaborator_add(actor=w.owner, experience=w.experience, membership=w.member)
    assert_one(events, "collaborator.add", actor=w.owner, target=w.experience, workspace=w.workspace)
    with nothing_recorded():
        experiences.collaborator_add(actor=w.owner, experience=w.experience, membership=w.member)


@covers(experiences.collaborator_remove)
def test_collaborator_remove(w):
    experiences.collaborator_add(actor=w.owner, experience=w.experience, membership=w.member)
    with recorded() as events:
        experiences.collaborator_remove(actor=w.owner, experience=w.experience, membership=w.member)
    assert_one(events, "collaborator.remove", actor=w.owner, target=w.experience, workspace=w.workspace)
    with nothing_recorded():
        experiences.collaborator_remove(actor=w.owner, experience=w.experience, membership=w.member)


# --- teams -----------------------------------------------------------------------------------------


@covers(teams.team_create)
def test_team_create(w):
    with recorded() as events:
        team = teams.team_create(actor=w.owner, workspace=w.workspace, name="Design")
    assert_one(events, "team.create", actor=w.owner, target=team, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        teams.team_create(actor=w.owner, workspace=w.workspace, name="design")


@covers(teams.team_update)
def test_team_update(w):
    with recorded() as events:
        teams.team_update(actor=w.owner, team=w.team, name="Renamed")
    assert_one(events, "team.update", actor=w.owner, target=w.team, workspace=w.workspace)
    with nothing_recorded():
        teams.team_update(actor=w.owner, team=w.team, name="Renamed")


@covers(teams.team_delete)
def test_team_delete(w):
    with nothing_recorded(PermissionDenied):
        teams.team_delete(actor=w.member.user, team=w.team)
    target = ref(w.team)
    with recorded() as events:
        teams.team_delete(actor=w.owner, team=w.team)
    assert_one(events, "team.delete", actor=w.owner, target=target, workspace=w.workspace)


@covers(teams.team_add_member)
def test_team_add_member(w):
    with recorded() as events:
        teams.team_add_member(actor=w.owner, team=w.team, membership=w.member)
    assert_one(events, "team.member_add", actor=w.owner, target=w.team, workspace=w.workspace)
    with nothing_recorded():
        teams.team_add_member(actor=w.owner, team=w.team, membership=w.member)


@covers(teams.team_remove_member)
def test_team_remove_member(w):
    teams.team_add_member(actor=w.owner, team=w.team, membership=w.member)
    with recorded() as events:
        teams.team_remove_member(actor=w.owner, team=w.team, membership=w.member)
    assert_one(events, "team.member_remove", actor=w.owner, target=w.team, workspace=w.workspace)
    assert not TeamMembership.objects.exists()
    with nothing_recorded():
        teams.team_remove_member(actor=w.owner, team=w.team, membership=w.member)


# --- workspaces and accounts -----------------------------------------------------------------------


@covers(workspaces.workspace_create)
def test_workspace_create(w):
    creator = UserFactory()
    with recorded() as events:
        workspace = workspaces.workspace_create(actor=creator, creator=creator, name="Fresh")
    # Its creator's Owner membership is part of the creation, not a second change.
    assert_one(events, "workspace.create", actor=creator, target=workspace, workspace=workspace)
    # Every call makes a new workspace: there is no call that changes nothing.


@covers(workspaces.workspace_update)
def test_workspace_update(w):
    with recorded() as events:
        workspaces.workspace_update(actor=w.owner, workspace=w.workspace, name="Acme 2", time_zone="UTC")
    assert_one(events, "workspace.update", actor=w.owner, target=w.workspace, workspace=w.workspace)
    with nothing_recorded():
        workspaces.workspace_update(actor=w.owner, workspace=w.workspace, name="Acme 2", time_zone="UTC")


@covers(workspaces.workspace_delete)
def test_workspace_delete(w):
    admin = add_member(w.workspace, catalog.ADMIN).user
    with nothing_recorded(PermissionDenied):
        workspaces.workspace_delete(actor=admin, workspace=w.workspace)
    target = ref(w.workspace)
    workspace = w.workspace
    with recorded() as events:
        workspaces.workspace_delete(actor=w.owner, workspace=workspace)
    assert [e.action for e in events] == ["workspace.delete"]
    assert (events[0].actor_id, events[0].target_type, events[0].target_id) == (w.owner.pk, *target)
    assert events[0].workspace_name == "Acme"  # the record outlives the workspace


@covers(deactivation.account_deactivate)
def test_account_deactivate(w):
    with recorded() as events:
        deactivation.account_deactivate(actor=None, user=w.viewer)
    assert_one(events, "account.deactivate", actor=None, target=w.viewer, workspace=None)
    with nothing_recorded():
        deactivation.account_deactivate(actor=None, user=w.viewer)
    with nothing_recorded(RuleViolation):  # the last active owner
        deactivation.account_deactivate(actor=None, user=w.owner)


@covers(deactivation.account_reactivate)
def test_account_reactivate(w):
    deactivation.account_deactivate(actor=None, user=w.viewer)
    with recorded() as events:
        deactivation.account_reactivate(actor=None, user=w.viewer)
    assert_one(events, "account.reactivate", actor=None, target=w.viewer, workspace=None)
    with nothing_recorded():
        deactivation.account_reactivate(actor=None, user=w.viewer)


@covers(accounts_services.account_signup)
def test_account_signup(w):
    with recorded() as events:
        user = accounts_services.account_signup(email="new@acme.test", full_name="New", password="Pass phrase 123!")
    assert_one(events, "account.signup", actor=user, target=user, workspace=None)
    with nothing_recorded(ValidationError):
        accounts_services.account_signup(email="NEW@acme.test", full_name="Again", password="Pass phrase 123!")


@covers(accounts_services.signup_request)
def test_signup_request(w):
    with recorded() as events:
        accounts_services.signup_request(email="new@acme.test", full_name="New", password="Pass phrase 123!")
    user = User.objects.get(email="new@acme.test")
    assert_one(events, "account.signup", actor=user, target=user, workspace=None)
    with nothing_recorded():  # an existing address: its owner is mailed, nothing changes
        accounts_services.signup_request(email="NEW@acme.test", full_name="Again", password="Pass phrase 123!")


@covers(accounts_services.email_verify, accounts_services.email_verify_and_follow)
def test_email_verify(w):
    user = UserFactory(email_verified_at=None)
    with recorded() as events:
        assert accounts_services.email_verify(user)
    assert_one(events, "account.verify", actor=user, target=user, workspace=None)
    with nothing_recorded():
        assert not accounts_services.email_verify(user)
        assert not accounts_services.email_verify_and_follow(user).verified_now


@covers(accounts_services.profile_update)
def test_profile_update(w):
    with recorded() as events:
        accounts_services.profile_update(user=w.owner, full_name="Olivia O.")
    assert_one(events, "account.profile_update", actor=w.owner, target=w.owner, workspace=None)
    with nothing_recorded():
        accounts_services.profile_update(user=w.owner, full_name="Olivia O.")


@covers(accounts_services.email_change_request, accounts_services.email_change_confirm)
def test_email_change(w):
    with nothing_recorded(RuleViolation):
        accounts_services.email_change_request(user=w.owner, new_email="new@acme.test", password="wrong")
    with recorded() as events:
        accounts_services.email_change_request(user=w.owner, new_email="new@acme.test", password=PASSWORD)
    assert_one(events, "account.email_change_request", actor=w.owner, target=w.owner, workspace=None)
    EmailChange.objects.update(token_hash=token_hash("known"))
    with nothing_recorded(RuleViolation):
        accounts_services.email_change_confirm(user=w.owner, token="unknown")
    with recorded() as events:
        accounts_services.email_change_confirm(user=w.owner, token="known")
    assert_one(events, "account.email_change", actor=w.owner, target=w.owner, workspace=None)


@covers(closing.account_close)
def test_account_close(w):
    with nothing_recorded(RuleViolation):
        closing.account_close(user=w.owner, password=PASSWORD)  # the last owner
    with nothing_recorded(RuleViolation):
        closing.account_close(user=w.viewer, password="wrong")
    with recorded() as events:
        closing.account_close(user=w.viewer, password=PASSWORD)
    assert [e.action for e in events] == ["member.leave", "account.close"]
    assert events[1].actor is None and events[1].workspace is None  # the account is gone; its id stays


@covers(accounts_services.account_create)
def test_account_create(w):
    staff = UserFactory(is_staff=True)
    with recorded() as events:
        user = accounts_services.account_create(actor=staff, email="New@Acme.test")
    assert_one(events, "account.create", actor=staff, target=user, workspace=None)
    assert events[0].after == {"email": "new@acme.test", "usable_password": False}
    with nothing_recorded(RuleViolation):
        accounts_services.account_create(actor=staff, email="NEW@acme.test", password="Pass phrase 123!")
    with nothing_recorded(RuleViolation):
        accounts_services.account_create(actor=staff, email="short@acme.test", password="123")


@covers(accounts_services.account_update)
def test_account_update(w):
    staff = UserFactory(is_staff=True)
    with recorded() as events:
        accounts_services.account_update(actor=staff, user=w.viewer, changes={"full_name": "Vera V.", "is_staff": True})
    assert_one(events, "account.update", actor=staff, target=w.viewer, workspace=None)
    assert events[0].after == {"full_name": "Vera V.", "is_staff": True}
    with nothing_recorded():
        accounts_services.account_update(actor=staff, user=w.viewer, changes={"full_name": "Vera V."}, permissions=[])
    with nothing_recorded(RuleViolation):
        accounts_services.account_update(actor=staff, user=w.viewer, changes={"email": w.owner.email.upper()})


@covers(accounts_services.account_delete)
def test_account_delete(w):
    staff, loner = UserFactory(is_staff=True), UserFactory()
    target = ref(loner)
    with recorded() as events:
        accounts_services.account_delete(actor=staff, user=loner)
    assert_one(events, "account.delete", actor=staff, target=target, workspace=None)
    with nothing_recorded(RuleViolation):
        accounts_services.account_delete(actor=staff, user=w.viewer)  # a member: refused


@covers(accounts_services.account_password_set)
def test_account_password_set(w):
    staff = UserFactory(is_staff=True)
    with recorded() as events:
        accounts_services.account_password_set(actor=staff, user=w.viewer, password="An0ther secret!", via="admin")
    assert_one(events, "account.password_set", actor=staff, target=w.viewer, workspace=None)
    with recorded() as events:
        accounts_services.account_password_set(actor=w.viewer, user=w.viewer, password="Y3t another!", via="change")
    assert_one(events, "account.password_set", actor=w.viewer, target=w.viewer, workspace=None)
    with nothing_recorded(RuleViolation):
        accounts_services.account_password_set(actor=w.viewer, user=w.viewer, password="123", via="change")


# --- roles and keys --------------------------------------------------------------------------------


@covers(role_services.role_save)
def test_role_save(w):
    arguments = {"actor": w.owner, "workspace": w.workspace, "scope": catalog.SITE, "name": "Looker"}
    with recorded() as events:
        role = role_services.role_save(**arguments, capabilities={"view_site"})
    assert_one(events, "role.create", actor=w.owner, target=role, workspace=w.workspace)
    with nothing_recorded():
        role_services.role_save(**arguments, capabilities={"view_site"}, role=role)
    with recorded() as events:
        role_services.role_save(**arguments, capabilities={"view_site", "view_dashboards"}, role=role)
    assert_one(events, "role.update", actor=w.owner, target=role, workspace=w.workspace)


@covers(role_services.role_delete)
def test_role_delete(w):
    role = role_services.role_save(
        actor=w.owner, workspace=w.workspace, scope=catalog.WORKSPACE, name="Auditor", capabilities={"view_members"}
    )
    members.member_change_role(actor=w.owner, membership=w.member, role=role)
    with nothing_recorded(RuleViolation):  # in use
        role_services.role_delete(actor=w.owner, role=role)
    members.member_change_role(actor=w.owner, membership=w.member, role=builtin_role(catalog.MEMBER))
    target = ref(role)
    with recorded() as events:
        role_services.role_delete(actor=w.owner, role=role)
    assert_one(events, "role.delete", actor=w.owner, target=target, workspace=w.workspace)


@covers(keys.key_create)
def test_key_create(w):
    with recorded() as events:
        key, _ = keys.key_create(actor=w.owner, workspace=w.workspace, name="CI")
    assert_one(events, "access_key.create", actor=w.owner, target=key, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        keys.key_create(actor=w.owner, workspace=w.workspace, name="  ")


@covers(keys.key_revoke)
def test_key_revoke(w):
    key, _ = keys.key_create(actor=w.owner, workspace=w.workspace, name="CI")
    with recorded() as events:
        keys.key_revoke(actor=w.owner, key=key)
    assert_one(events, "access_key.revoke", actor=w.owner, target=key, workspace=w.workspace)
    with nothing_recorded():
        keys.key_revoke(actor=w.owner, key=key)


# --- invitations -----------------------------------------------------------------------------------

TOKEN = "a-token-known-to-the-test"


def invite_for(w, email="invitee@acme.test") -> Invite:
    (invite,) = invites.invite_create(
        actor=w.owner, workspace=w.workspace, emails=[email], role=builtin_role(catalog.MEMBER), send_email=False
    ).invited
    return invite


@covers(invites.invite_create)
def test_invite_create(w):
    with recorded() as events:
        result = invites.invite_create(
            actor=w.owner,
            workspace=w.workspace,
            emails=["a@acme.test", "b@acme.test"],
            role=builtin_role(catalog.MEMBER),
        )
    # One event per invitation, each naming its own.
    assert [e.action for e in events] == ["invite.create", "invite.create"]
    for event, invite in zip(events, result.invited, strict=True):
        assert_event(event, "invite.create", actor=w.owner, target=invite, workspace=w.workspace)
    with nothing_recorded(RuleViolation):  # already a member
        invites.invite_create(actor=w.owner, workspace=w.workspace, emails=[w.member.user.email], role=w.member.role)


@covers(invites.invite_create_bulk)
def test_invite_create_bulk(w):
    specs = [invites.InviteSpec("bulk@acme.test", builtin_role(catalog.MEMBER))]
    with recorded() as events:
        result = invites.invite_create_bulk(actor=w.owner, workspace=w.workspace, specs=specs)
    assert_one(events, "invite.create", actor=w.owner, target=result.invited[0], workspace=w.workspace)
    with nothing_recorded():  # the same file again: the live link is kept
        invites.invite_create_bulk(actor=w.owner, workspace=w.workspace, specs=specs)


@covers(invites.invite_resend)
def test_invite_resend(w):
    invite = invite_for(w)
    with recorded() as events:
        invites.invite_resend(actor=w.owner, invite=invite)
    assert_one(events, "invite.resend", actor=w.owner, target=invite, workspace=w.workspace)
    invites.invite_revoke(actor=w.owner, invite=invite)
    with nothing_recorded(RuleViolation):
        invites.invite_resend(actor=w.owner, invite=invite)


@covers(invites.invite_revoke)
def test_invite_revoke(w):
    invite = invite_for(w)
    with recorded() as events:
        invites.invite_revoke(actor=w.owner, invite=invite)
    assert_one(events, "invite.revoke", actor=w.owner, target=invite, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        invites.invite_revoke(actor=w.owner, invite=invite)


@covers(invites.invite_accept)
def test_invite_accept(w):
    invite = invite_for(w)
    Invite.objects.filter(pk=invite.pk).update(token_hash=hash_token(TOKEN))  # the e-mailed token stays unknown
    user = UserFactory(email="invitee@acme.test")
    with recorded() as events:
        membership = invites.invite_accept(invite_token=TOKEN, user=user)
    # One change, one event: the invitation is used up and its invitee joins.
    assert [e.action for e in events] == ["invite.accept"]
    assert_event(events[0], "invite.accept", actor=user, target=invite, workspace=w.workspace)
    assert membership.role_id == invite.role_id
    with nothing_recorded(RuleViolation):  # used
        invites.invite_accept(invite_token=TOKEN, user=user)


@covers(invites.purge_expired_invites)
def test_purge_expired_invites(w):
    invite = invite_for(w)
    with nothing_recorded():
        assert invites.purge_expired_invites() == 0
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - datetime.timedelta(days=31))
    with recorded() as events:
        assert invites.purge_expired_invites() == 1
    # One event for the workspace's purge, by the system, naming how many went.
    assert_one(events, "invite.purge", actor=None, target=None, workspace=w.workspace)
    assert events[0].after["deleted"] == 1


# --- join domains and requests ---------------------------------------------------------------------


@pytest.fixture
def dns(settings):
    with serving(settings) as server:
        yield server


def verified_domain(w, mode=JoinDomain.Mode.AUTOMATIC) -> JoinDomain:
    # The owner's own verified address is at acme.test: verified at once.
    return join_domains.join_domain_add(
        actor=w.owner, workspace=w.workspace, domain="acme.test", role=builtin_role(catalog.MEMBER), mode=mode
    )


@covers(join_domains.join_domain_add)
def test_join_domain_add(w):
    with recorded() as events:
        domain = verified_domain(w)
    assert_one(events, "join_domain.add", actor=w.owner, target=domain, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        verified_domain(w)


@covers(join_domains.join_domain_update)
def test_join_domain_update(w):
    domain = verified_domain(w)
    with recorded() as events:
        join_domains.join_domain_update(actor=w.owner, domain=domain, mode=JoinDomain.Mode.REQUEST)
    assert_one(events, "join_domain.update", actor=w.owner, target=domain, workspace=w.workspace)
    with nothing_recorded():
        join_domains.join_domain_update(actor=w.owner, domain=domain, mode=JoinDomain.Mode.REQUEST)


@covers(join_domains.join_domain_remove)
def test_join_domain_remove(w):
    domain = verified_domain(w)
    with nothing_recorded(PermissionDenied):
        join_domains.join_domain_remove(actor=w.member.user, domain=domain)
    target = ref(domain)
    with recorded() as events:
        join_domains.join_domain_remove(actor=w.owner, domain=domain)
    assert_one(events, "join_domain.remove", actor=w.owner, target=target, workspace=w.workspace)


def dns_domain(w) -> JoinDomain:
    return join_domains.join_domain_add(
        actor=w.owner, workspace=w.workspace, domain="dune.test", role=builtin_role(catalog.MEMBER)
    )


@covers(join_domains.join_domain_verify_dns)
def test_join_domain_verify_dns(w, dns):
    domain = dns_domain(w)
    with nothing_recorded(RuleViolation):  # no record yet
        join_domains.join_domain_verify_dns(actor=w.owner, domain=domain)
    dns.records["dune.test"] = [txt_record_value(domain.verification_token)]
    with recorded() as events:
        verified = join_domains.join_domain_verify_dns(actor=w.owner, domain=domain)
    assert_one(events, "join_domain.verify", actor=w.owner, target=domain, workspace=w.workspace)
    with nothing_recorded():
        join_domains.join_domain_verify_dns(actor=w.owner, domain=verified)


@covers(join_domains.join_domains_recheck)
def test_join_domains_recheck(w, dns):
    domain = dns_domain(w)
    dns.records["dune.test"] = [txt_record_value(domain.verification_token)]
    join_domains.join_domain_verify_dns(actor=w.owner, domain=domain)
    with nothing_recorded():  # still there
        join_domains.join_domains_recheck()
    dns.records["dune.test"] = []
    with recorded() as events:
        join_domains.join_domains_recheck()
    assert_one(events, "join_domain.suspend", actor=None, target=domain, workspace=w.workspace)
    with nothing_recorded():
        join_domains.join_domains_recheck()


@covers(join_domains.auto_join)
def test_auto_join(w):
    verified_domain(w)
    with nothing_recorded():
        assert join_domains.auto_join(UserFactory(email="late@acme.test", email_verified_at=None)) is None
    user = UserFactory(email="joiner@acme.test")
    with recorded() as events:
        membership = join_domains.auto_join(user)
    assert_one(events, "member.auto_join", actor=user, target=membership, workspace=w.workspace)
    with nothing_recorded():
        assert join_domains.auto_join(user) is None


def join_request(w) -> JoinRequest:
    verified_domain(w, mode=JoinDomain.Mode.REQUEST)
    with recorded() as events:
        found = join_domains.auto_join(UserFactory(email="asker@acme.test"))
    assert_one(events, "join_request.create", actor=found.user, target=found, workspace=w.workspace)
    return found


@covers(join_domains.join_request_approve)
def test_join_request_approve(w):
    request = join_request(w)
    with recorded() as events:
        membership = join_domains.join_request_approve(actor=w.owner, join_request=request)
    # One event: the approval is the membership's creation.
    assert_one(events, "join_request.approve", actor=w.owner, target=membership, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        join_domains.join_request_approve(actor=w.owner, join_request=request)


@covers(join_domains.join_request_decline)
def test_join_request_decline(w):
    request = join_request(w)
    with recorded() as events:
        join_domains.join_request_decline(actor=w.owner, join_request=request)
    assert_one(events, "join_request.decline", actor=w.owner, target=request, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        join_domains.join_request_decline(actor=w.owner, join_request=request)


# --- viewer groups ---------------------------------------------------------------------------------


@pytest.fixture
def group(w):
    return viewer_groups.viewer_group_create(actor=w.owner, workspace=w.workspace, name="Clients")


@covers(viewer_groups.viewer_group_create)
def test_viewer_group_create(w):
    with recorded() as events:
        created = viewer_groups.viewer_group_create(actor=w.owner, workspace=w.workspace, name="Press")
    assert_one(events, "viewer_group.create", actor=w.owner, target=created, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        viewer_groups.viewer_group_create(actor=w.owner, workspace=w.workspace, name="Press")


@covers(viewer_groups.viewer_group_update)
def test_viewer_group_update(w, group):
    with recorded() as events:
        viewer_groups.viewer_group_update(actor=w.owner, group=group, name="Customers")
    assert_one(events, "viewer_group.update", actor=w.owner, target=group, workspace=w.workspace)
    with nothing_recorded():
        viewer_groups.viewer_group_update(actor=w.owner, group=group, name="Customers")


@covers(viewer_groups.viewer_group_delete)
def test_viewer_group_delete(w, group):
    with nothing_recorded(PermissionDenied):
        viewer_groups.viewer_group_delete(actor=w.viewer, group=group)
    target = ref(group)
    with recorded() as events:
        viewer_groups.viewer_group_delete(actor=w.owner, group=group)
    assert_one(events, "viewer_group.delete", actor=w.owner, target=target, workspace=w.workspace)


@covers(viewer_groups.viewer_group_members_add)
def test_viewer_group_member_add(w, group):
    with recorded() as events:
        viewer_groups.viewer_group_members_add(actor=w.owner, group=group, emails=["ann@client.test"])
    assert_one(events, "viewer_group.member_add", actor=w.owner, target=group, workspace=w.workspace)
    with recorded() as events:
        viewer_groups.viewer_group_members_add(actor=w.owner, group=group, emails="bob@client.test, cy@client.test")
    # One event per address added, each naming its address.
    assert [(e.action, e.after["email"]) for e in events] == [
        ("viewer_group.member_add", "bob@client.test"),
        ("viewer_group.member_add", "cy@client.test"),
    ]
    with nothing_recorded(RuleViolation):
        viewer_groups.viewer_group_members_add(
            actor=w.owner, group=group, emails=["new@client.test", "ann@client.test"]
        )


@covers(viewer_groups.viewer_group_member_remove)
def test_viewer_group_member_remove(w, group):
    (member,) = viewer_groups.viewer_group_members_add(actor=w.owner, group=group, emails=["ann@client.test"])
    with recorded() as events:
        viewer_groups.viewer_group_member_remove(actor=w.owner, group=group, member=member)
    assert_one(events, "viewer_group.member_remove", actor=w.owner, target=group, workspace=w.workspace)
    with nothing_recorded():
        viewer_groups.viewer_group_member_remove(actor=w.owner, group=group, member=member)


# --- workspace settings ----------------------------------------------------------------------------


@covers(ws_settings.ip_rules_add)
def test_ip_rules_add(w):
    with recorded() as events:
        ws_settings.ip_rules_add(actor=w.owner, workspace=w.workspace, text="10.0.0.0/8\n192.0.2.1")
    # One submission, one event (for every line of it).
    assert_one(events, "ip_block.add", actor=w.owner, target=w.workspace, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        ws_settings.ip_rules_add(actor=w.owner, workspace=w.workspace, text="198.51.100.0/24\nnot an address")


@covers(ws_settings.ip_rule_remove)
def test_ip_rule_remove(w):
    (rule,) = ws_settings.ip_rules_add(actor=w.owner, workspace=w.workspace, text="10.0.0.0/8")
    with nothing_recorded(PermissionDenied):
        ws_settings.ip_rule_remove(actor=w.member.user, rule=rule)
    target = ref(rule)
    with recorded() as events:
        ws_settings.ip_rule_remove(actor=w.owner, rule=rule)
    assert_one(events, "ip_block.remove", actor=w.owner, target=target, workspace=w.workspace)


@covers(ws_settings.integration_save)
def test_integration_save(w):
    arguments = {"actor": w.owner, "workspace": w.workspace, "key": "hubspot", "enabled": True}
    with recorded() as events:
        row = ws_settings.integration_save(**arguments, settings={"portal_id": "4815162"})
    assert_one(events, "integration.update", actor=w.owner, target=row, workspace=w.workspace)
    with nothing_recorded():
        ws_settings.integration_save(**arguments, settings={"portal_id": "4815162"})


@covers(ws_settings.user_attribute_set)
def test_user_attribute_set(w):
    from workspace_settings import attributes

    attribute = next(iter(attributes.BY_KEY.values()))
    arguments = {"actor": w.owner, "workspace": w.workspace, "key": attribute.key, "enabled": not attribute.default}
    with recorded() as events:
        row = ws_settings.user_attribute_set(**arguments)
    assert_one(events, "user_attribute.update", actor=w.owner, target=row, workspace=w.workspace)
    with nothing_recorded():
        ws_settings.user_attribute_set(**arguments)


@covers(ws_settings.policy_update)
def test_policy_update(w):
    with recorded() as events:
        policy = ws_settings.policy_update(actor=w.owner, workspace=w.workspace, **POLICY)
    assert_one(events, "policy.update", actor=w.owner, target=policy, workspace=w.workspace)
    with nothing_recorded():
        ws_settings.policy_update(actor=w.owner, workspace=w.workspace, **POLICY)


# --- single sign-on connections and sign-ins --------------------------------------------------------


def _connection(w, **overrides):
    domain = join_domains.join_domain_add(
        actor=w.owner, workspace=w.workspace, domain="acme.test", role=builtin_role(catalog.VIEWER)
    )
    fields = {
        "name": "Acme IdP",
        "issuer": "https://idp.acme.test",
        "client_id": "portal",
        "client_secret": "client-secret-value-0123",
        "domains": [domain],
        "default_role": builtin_role(catalog.MEMBER),
        **overrides,
    }
    return sso.connection_add(actor=w.owner, workspace=w.workspace, **fields), fields


@covers(sso.connection_add)
def test_sso_connection_add(w):
    with recorded() as events:
        connection, _ = _connection(w)
    assert [e.action for e in events if e.action.startswith("sso")] == ["sso_connection.add"]
    assert_event(events[-1], "sso_connection.add", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        sso.connection_add(
            actor=w.owner,
            workspace=w.workspace,
            name="Other",
            issuer="ftp://x",
            client_id="p",
            client_secret="s" * 20,
            domains=[],
            default_role=builtin_role(catalog.MEMBER),
        )


@covers(sso.connection_update)
def test_sso_connection_update(w):
    connection, fields = _connection(w)
    fields.pop("client_secret")
    with recorded() as events:
        sso.connection_update(actor=w.owner, connection=connection, **{**fields, "name": "Renamed", "enabled": True})
    assert_one(events, "sso_connection.update", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded():
        sso.connection_update(actor=w.owner, connection=connection, **{**fields, "name": "Renamed", "enabled": True})


def _saml_connection(w, **overrides):
    from tests.test_sso_saml_connections import metadata  # noqa: PLC0415

    domain = join_domains.join_domain_add(
        actor=w.owner, workspace=w.workspace, domain="acme.test", role=builtin_role(catalog.VIEWER)
    )
    fields = {
        "name": "Acme SAML",
        "metadata_xml": metadata(),
        "domains": [domain],
        "default_role": builtin_role(catalog.MEMBER),
        **overrides,
    }
    return saml_services.saml_connection_add(actor=w.owner, workspace=w.workspace, **fields), fields


@covers(saml_services.saml_connection_add)
def test_saml_connection_add(w):
    with recorded() as events:
        connection, fields = _saml_connection(w)
    assert [e.action for e in events if e.action.startswith("sso")] == ["sso_connection.add"]
    assert_event(events[-1], "sso_connection.add", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        saml_services.saml_connection_add(actor=w.owner, workspace=w.workspace, **{**fields, "metadata_xml": "<x/>"})


@covers(saml_services.saml_connection_update)
def test_saml_connection_update(w):
    connection, fields = _saml_connection(w)
    fields.pop("metadata_xml")
    with recorded() as events:
        saml_services.saml_connection_update(
            actor=w.owner, connection=connection, **{**fields, "name": "Renamed", "enabled": True}
        )
    assert_one(events, "sso_connection.update", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded():
        saml_services.saml_connection_update(
            actor=w.owner, connection=connection, **{**fields, "name": "Renamed", "enabled": True}
        )


@covers(sso.connection_set_enabled)
def test_sso_connection_set_enabled(w):
    connection, _ = _connection(w)
    with recorded() as events:
        sso.connection_set_enabled(actor=w.owner, connection=connection, enabled=False)
    assert_one(events, "sso_connection.disable", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded():
        sso.connection_set_enabled(actor=w.owner, connection=connection, enabled=False)
    with nothing_recorded(PermissionDenied):
        sso.connection_set_enabled(actor=w.member.user, connection=connection, enabled=True)


@covers(sso.connection_remove)
def test_sso_connection_remove(w):
    connection, _ = _connection(w)
    target = ref(connection)
    with recorded() as events:
        sso.connection_remove(actor=w.owner, connection=connection)
    assert_one(events, "sso_connection.remove", actor=w.owner, target=target, workspace=w.workspace)


@covers(sso.sso_refusal_record)
def test_sso_refusal_record(w):
    connection, _ = _connection(w)
    with recorded() as events:
        sso.sso_refusal_record(connection=connection, reason="domain_not_bound", email="x@elsewhere.test")
    assert_one(events, "sso.refused", actor=None, target=connection, workspace=w.workspace)


@covers(sso.connection_test_record)
def test_connection_test_record(w):
    connection, _ = _connection(w)
    with recorded() as events:
        sso.connection_test_record(actor=w.owner, connection=connection, outcome="refused", reason="id_token")
    assert_one(events, "sso.connection_test", actor=w.owner, target=connection, workspace=w.workspace)
    assert events[0].after == {"connection": "Acme IdP", "outcome": "refused", "reason": "id_token"}
    with nothing_recorded(ValueError):
        sso.connection_test_record(actor=w.owner, connection=connection, outcome="signed_in")


@covers(sso.sso_requirement_set)
def test_sso_requirement_set(w):
    with nothing_recorded(RuleViolation):  # no enabled connection admits a domain yet
        sso.sso_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    _connection(w)
    with recorded() as events:
        sso.sso_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    assert_one(events, "sso.required", actor=w.owner, target=w.workspace, workspace=w.workspace)
    with nothing_recorded():
        sso.sso_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    with nothing_recorded(PermissionDenied):
        sso.sso_requirement_set(actor=w.member.user, workspace=w.workspace, required=False)


@covers(sso.connection_mapping_set)
def test_sso_connection_mapping_set(w):
    connection, _ = _connection(w)
    with recorded() as events:
        sso.connection_mapping_set(actor=w.owner, connection=connection, group_claim="groups", text="a = Viewer")
    assert_one(events, "sso_connection.mapping", actor=w.owner, target=connection, workspace=w.workspace)
    with nothing_recorded():
        sso.connection_mapping_set(actor=w.owner, connection=connection, group_claim="groups", text="a = viewer")
    with nothing_recorded(RuleViolation):
        sso.connection_mapping_set(actor=w.owner, connection=connection, group_claim="groups", text="a = Owner")
    with nothing_recorded(PermissionDenied):
        sso.connection_mapping_set(actor=w.member.user, connection=connection, group_claim="groups", text="")


@covers(sso.sso_bypass_record)
def test_sso_bypass_record(w):
    connection, _ = _connection(w)
    with recorded() as events:
        sso.sso_bypass_record(user=w.owner, workspace=w.workspace, connection=connection)
    assert_one(events, "sso.bypass", actor=w.owner, target=connection, workspace=w.workspace)


@covers(sso.sso_sign_in)
def test_sso_sign_in(w):
    """A returning member's sign-in is one event; a first sign-in also records the account and the
    membership it makes (their own services' events); a refused one records nothing here."""
    connection, _ = _connection(w)
    with recorded() as events:
        sso.sso_sign_in(connection=connection, claims={"email": "mia@acme.test", "email_verified": True})
    assert_one(events, "sso.sign_in", actor=w.member.user, target=connection, workspace=w.workspace)
    with recorded() as events:
        sso.sso_sign_in(connection=connection, claims={"email": "new@acme.test", "email_verified": True})
    assert events[-1].action == "sso.sign_in" and "member.sso_join" in [e.action for e in events]
    with nothing_recorded(sso.SignInRefused):
        sso.sso_sign_in(connection=connection, claims={"email": "new2@acme.test", "email_verified": False})


# --- billing ---------------------------------------------------------------------------------------


def upgrade(w) -> None:
    billing.plan_change(actor=w.owner, workspace=w.workspace, plan_key="growth")


@covers(billing.plan_change)
def test_plan_change(w):
    with recorded() as events:
        upgrade(w)
    account = w.workspace.billing_account
    assert_one(events, "billing.plan_upgrade", actor=w.owner, target=account, workspace=w.workspace)
    with nothing_recorded():
        assert billing.plan_change(actor=w.owner, workspace=w.workspace, plan_key="growth") is None
    with recorded() as events:
        request = billing.plan_change(actor=w.owner, workspace=w.workspace, plan_key="free")
    assert_one(events, "billing.plan_request", actor=w.owner, target=request, workspace=w.workspace)


@covers(billing.plan_cancel)
def test_plan_cancel(w):
    with nothing_recorded(RuleViolation):  # nothing to cancel on the free plan
        billing.plan_cancel(actor=w.owner, workspace=w.workspace)
    upgrade(w)
    with recorded() as events:
        request = billing.plan_cancel(actor=w.owner, workspace=w.workspace, reason="Too dear")
    assert_one(events, "billing.plan_request", actor=w.owner, target=request, workspace=w.workspace)
    with nothing_recorded(RuleViolation):  # one open request at a time
        billing.plan_cancel(actor=w.owner, workspace=w.workspace)


@covers(billing.billing_details_update)
def test_billing_details_update(w):
    details = {"company_name": "Acme Ltd", "address": "1 Road", "vat_id": "DE123456789"}
    with recorded() as events:
        account = billing.billing_details_update(actor=w.owner, workspace=w.workspace, **details)
    assert_one(events, "billing.details_update", actor=w.owner, target=account, workspace=w.workspace)
    with nothing_recorded():
        billing.billing_details_update(actor=w.owner, workspace=w.workspace, **details)


@covers(billing.billing_contact_add)
def test_billing_contact_add(w):
    with recorded() as events:
        contact = billing.billing_contact_add(actor=w.owner, workspace=w.workspace, email="bills@acme.test")
    assert_one(events, "billing.contact_add", actor=w.owner, target=contact, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        billing.billing_contact_add(actor=w.owner, workspace=w.workspace, email="BILLS@acme.test")


@covers(billing.billing_contact_remove)
def test_billing_contact_remove(w):
    contact = billing.billing_contact_add(actor=w.owner, workspace=w.workspace, email="bills@acme.test")
    with nothing_recorded(PermissionDenied):
        billing.billing_contact_remove(actor=w.member.user, contact=contact)
    target = ref(contact)
    with recorded() as events:
        billing.billing_contact_remove(actor=w.owner, contact=contact)
    assert_one(events, "billing.contact_remove", actor=w.owner, target=target, workspace=w.workspace)


@covers(billing_staff.plan_request_handle)
def test_plan_request_handle(w):
    upgrade(w)
    request = billing.plan_cancel(actor=w.owner, workspace=w.workspace)
    with recorded() as events:
        billing_staff.plan_request_handle(plan_request=request, status=PlanChangeRequest.Status.DONE)
    # Staff act in the admin: they are not members, so the event names no actor.
    assert_one(events, "billing.plan_request_done", actor=None, target=request, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        billing_staff.plan_request_handle(plan_request=request, status=PlanChangeRequest.Status.DONE)


@covers(billing_staff.plan_set)
def test_plan_set(w):
    with recorded() as events:
        account = billing_staff.plan_set(workspace=w.workspace, plan_key="scale")
    assert_one(events, "billing.plan_set", actor=None, target=account, workspace=w.workspace)
    with nothing_recorded():
        billing_staff.plan_set(workspace=w.workspace, plan_key="scale")


def invoice(w, number="INV-1") -> Invoice:
    return billing_staff.invoice_create(
        workspace=w.workspace,
        number=number,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 1, 31),
        amount="49.00",
    )


@covers(billing_staff.invoice_create)
def test_invoice_create(w):
    with recorded() as events:
        created = invoice(w)
    assert_one(events, "billing.invoice_create", actor=None, target=created, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        invoice(w, number="inv-1")


@covers(billing_staff.invoice_set_status)
def test_invoice_set_status(w):
    created = invoice(w)
    with recorded() as events:
        billing_staff.invoice_set_status(invoice=created, status=Invoice.Status.PAID)
    assert_one(events, "billing.invoice_status", actor=None, target=created, workspace=w.workspace)
    with nothing_recorded():
        billing_staff.invoice_set_status(invoice=created, status=Invoice.Status.PAID)


# --- data & privacy --------------------------------------------------------------------------------


def data_request(w, subject="visitor-42") -> DataRequest:
    return privacy.data_request_create(
        actor=w.owner, workspace=w.workspace, site=w.site, kind=DataRequest.Kind.EXPORT, subject=subject
    )


@covers(privacy.data_request_create)
def test_data_request_create(w):
    with recorded() as events:
        created = data_request(w)
    assert_one(events, "data_request.create", actor=w.owner, target=created, workspace=w.workspace)
    assert "visitor-42" not in str(events[0].after)  # the tracked person stays out of the log
    with nothing_recorded(RuleViolation):  # the same request is still open
        data_request(w)


@covers(privacy.data_request_set_status)
def test_data_request_set_status(w):
    created = data_request(w)
    with recorded() as events:
        privacy.data_request_set_status(data_request=created, status=DataRequest.Status.IN_PROGRESS)
    assert_one(events, "data_request.status", actor=None, target=created, workspace=w.workspace)
    with nothing_recorded():
        privacy.data_request_set_status(data_request=created, status=DataRequest.Status.IN_PROGRESS)


# --- two-factor authentication ---------------------------------------------------------------------


@covers(two_factor.two_factor_confirm)
def test_two_factor_confirm(w):
    device = two_factor.two_factor_setup_start(user=w.owner)
    with recorded() as events:
        two_factor.two_factor_confirm(user=w.owner, device=device, token=code_for(device))
    assert_one(events, "account.two_factor_enable", actor=w.owner, target=w.owner, workspace=None)
    with nothing_recorded(RuleViolation):  # that set-up is over
        two_factor.two_factor_confirm(user=w.owner, device=device, token=code_for(device))


@covers(two_factor.backup_codes_regenerate)
def test_backup_codes_regenerate(w):
    _, codes = enable_two_factor(w.owner)
    with recorded() as events:
        two_factor.backup_codes_regenerate(user=w.owner, token=codes[0])
    assert_one(events, "account.backup_codes_regenerate", actor=w.owner, target=w.owner, workspace=None)
    with nothing_recorded(RuleViolation):  # an old code: they all stopped working
        two_factor.backup_codes_regenerate(user=w.owner, token=codes[1])


@covers(two_factor.two_factor_disable)
def test_two_factor_disable(w):
    device, _ = enable_two_factor(w.owner)
    with recorded() as events:
        two_factor.two_factor_disable(user=w.owner, token=code_for(device))
    assert_one(events, "account.two_factor_disable", actor=w.owner, target=w.owner, workspace=None)
    with nothing_recorded(RuleViolation):  # already off
        two_factor.two_factor_disable(user=w.owner, token="123456")


@covers(two_factor.two_factor_reset)
def test_two_factor_reset(w):
    enable_two_factor(w.member.user)
    staff = UserFactory(is_staff=True)
    with recorded() as events:
        assert two_factor.two_factor_reset(actor=staff, user=w.member.user)
    assert_one(events, "account.two_factor_reset", actor=staff, target=w.member.user, workspace=None)
    with nothing_recorded():
        assert not two_factor.two_factor_reset(actor=staff, user=w.member.user)


@covers(two_factor.passkey_add)
def test_passkey_add(w):
    enable_two_factor(w.owner)
    options, state = registration_options(w.owner)
    with recorded() as events:
        device, codes = two_factor.passkey_add(
            user=w.owner, name="Laptop", state=state, data=SoftPasskey().create(options)
        )
    assert_one(events, "account.passkey_add", actor=w.owner, target=w.owner, workspace=None)
    assert events[0].after == {"passkey": "Laptop", "passkeys": 1}
    assert device.pk and codes == []
    # A first second factor: two-factor authentication on, with backup codes (counted, never shown).
    options, state = registration_options(w.member.user)
    with recorded() as events:
        _, codes = two_factor.passkey_add(
            user=w.member.user, name="Phone", state=state, data=SoftPasskey().create(options)
        )
    assert_one(events, "account.passkey_add", actor=w.member.user, target=w.member.user, workspace=None)
    assert events[0].before == {"two_factor": False}
    assert events[0].after == {"passkey": "Phone", "passkeys": 1, "two_factor": True, "backup_codes": 10}
    assert not any(code in str(events[0].after) for code in codes)
    options, state = registration_options(w.member.user)
    with nothing_recorded(RuleViolation):  # a nameless passkey
        two_factor.passkey_add(user=w.member.user, name=" ", state=state, data=SoftPasskey().create(options))


@covers(two_factor.passkey_remove)
def test_passkey_remove(w):
    enable_two_factor(w.owner)
    _, device = add_passkey(w.owner)
    with nothing_recorded(RuleViolation):  # not theirs
        two_factor.passkey_remove(user=w.member.user, passkey=device)
    with recorded() as events:
        two_factor.passkey_remove(user=w.owner, passkey=device)
    assert_one(events, "account.passkey_remove", actor=w.owner, target=w.owner, workspace=None)
    with nothing_recorded():  # gone already
        two_factor.passkey_remove(user=w.owner, passkey=device)
    # The last second factor: refused while a workspace requires two-factor authentication.
    _, only = add_passkey(w.member.user)
    two_factor.two_factor_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    with nothing_recorded(RuleViolation):
        two_factor.passkey_remove(user=w.member.user, passkey=only)


@covers(two_factor.two_factor_requirement_set)
def test_two_factor_requirement_set(w):
    with nothing_recorded(RuleViolation):  # the owner has no two-factor authentication yet
        two_factor.two_factor_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    enable_two_factor(w.owner)
    with recorded() as events:
        two_factor.two_factor_requirement_set(actor=w.owner, workspace=w.workspace, required=True)
    assert_one(events, "workspace.two_factor_required", actor=w.owner, target=w.workspace, workspace=w.workspace)
    with nothing_recorded():
        two_factor.two_factor_requirement_set(actor=w.owner, workspace=w.workspace, required=True)


# --- the people page's bulk actions: one event per person changed -----------------------------------


@covers(people_bulk.members_change_role)
def test_bulk_members_change_role(w):
    viewer = builtin_role(catalog.VIEWER)
    with recorded() as events:
        people_bulk.members_change_role(actor=w.owner, workspace=w.workspace, member_ids=[w.member.pk], role=viewer)
    assert_one(events, "member.role_change", actor=w.owner, target=w.member, workspace=w.workspace)
    with nothing_recorded():
        people_bulk.members_change_role(actor=w.owner, workspace=w.workspace, member_ids=[w.member.pk], role=viewer)
    with nothing_recorded(PermissionDenied):
        people_bulk.members_change_role(actor=w.viewer, workspace=w.workspace, member_ids=[w.member.pk], role=viewer)


@covers(people_bulk.members_remove)
def test_bulk_members_remove(w):
    target = ref(w.member)
    with recorded() as events:
        people_bulk.members_remove(actor=w.owner, workspace=w.workspace, member_ids=[w.member.pk])
    assert_one(events, "member.remove", actor=w.owner, target=target, workspace=w.workspace)
    with nothing_recorded():
        people_bulk.members_remove(actor=w.owner, workspace=w.workspace, member_ids=[w.member.pk])


@covers(people_bulk.members_team_add, people_bulk.members_team_remove)
def test_bulk_members_team_add_and_remove(w):
    ids = [w.member.pk]
    with recorded() as events:
        people_bulk.members_team_add(actor=w.owner, workspace=w.workspace, team=w.team, member_ids=ids)
    assert_one(events, "team.member_add", actor=w.owner, target=w.team, workspace=w.workspace)
    with nothing_recorded():
        people_bulk.members_team_add(actor=w.owner, workspace=w.workspace, team=w.team, member_ids=ids)
    with recorded() as events:
        people_bulk.members_team_remove(actor=w.owner, workspace=w.workspace, team=w.team, member_ids=ids)
    assert_one(events, "team.member_remove", actor=w.owner, target=w.team, workspace=w.workspace)
    with nothing_recorded():
        people_bulk.members_team_remove(actor=w.owner, workspace=w.workspace, team=w.team, member_ids=ids)


@covers(people_bulk.invites_resend, people_bulk.invites_revoke)
def test_bulk_invites_resend_and_revoke(w):
    result = invites.invite_create(
        actor=w.owner, workspace=w.workspace, emails=["new@x.test"], role=builtin_role(catalog.MEMBER), send_email=False
    )
    invite = result.invited[0]
    with recorded() as events:
        people_bulk.invites_resend(actor=w.owner, workspace=w.workspace, invite_ids=[invite.pk])
    assert_one(events, "invite.resend", actor=w.owner, target=invite, workspace=w.workspace)
    with recorded() as events:
        people_bulk.invites_revoke(actor=w.owner, workspace=w.workspace, invite_ids=[invite.pk])
    assert_one(events, "invite.revoke", actor=w.owner, target=invite, workspace=w.workspace)
    with nothing_recorded():
        people_bulk.invites_revoke(actor=w.owner, workspace=w.workspace, invite_ids=[invite.pk])


# --- SCIM provisioning ----------------------------------------------------------------------------
# A provisioning call is several changes through the services it uses (an account, a membership,
# the identity), each recorded once, all named after the token (audit.context.system_acting).


@covers(scim_tokens.scim_token_create)
def test_scim_token_create(w):
    with recorded() as events:
        token, _ = scim_tokens.scim_token_create(actor=w.owner, workspace=w.workspace, name="Okta")
    assert_one(events, "scim_token.create", actor=w.owner, target=token, workspace=w.workspace)
    with nothing_recorded(RuleViolation):
        scim_tokens.scim_token_create(actor=w.owner, workspace=w.workspace, name="  ")


@covers(scim_tokens.scim_token_set_role)
def test_scim_token_set_role(w):
    token, _ = scim_tokens.scim_token_create(actor=w.owner, workspace=w.workspace, name="Okta")
    with recorded() as events:
        scim_tokens.scim_token_set_role(actor=w.owner, token=token, role=builtin_role(catalog.VIEWER))
    assert_one(events, "scim_token.set_role", actor=w.owner, target=token, workspace=w.workspace)
    assert events[0].before["role"] == "Member" and events[0].after["role"] == "Viewer"
    with nothing_recorded():
        scim_tokens.scim_token_set_role(actor=w.owner, token=token, role=builtin_role(catalog.VIEWER))
    with nothing_recorded(RuleViolation):
        scim_tokens.scim_token_set_role(actor=w.owner, token=token, role=builtin_role(catalog.OWNER))
    with nothing_recorded(PermissionDenied):
        scim_tokens.scim_token_set_role(actor=w.viewer, token=token, role=builtin_role(catalog.MEMBER))


@covers(scim_tokens.scim_token_revoke)
def test_scim_token_revoke(w):
    token, _ = scim_tokens.scim_token_create(actor=w.owner, workspace=w.workspace, name="Okta")
    with recorded() as events:
        scim_tokens.scim_token_revoke(actor=w.owner, token=token)
    assert_one(events, "scim_token.revoke", actor=w.owner, target=token, workspace=w.workspace)
    with nothing_recorded():
        scim_tokens.scim_token_revoke(actor=w.owner, token=token)


# --- webhooks --------------------------------------------------------------------------------------


@covers(webhooks.endpoint_add, webhooks.endpoint_update, webhooks.endpoint_rotate_secret, webhooks.endpoint_remove)
def test_webhook_endpoints(w):
    url = "http://127.0.0.1:9/hook"
    with recorded() as events:
        endpoint, _ = webhooks.endpoint_add(actor=w.owner, workspace=w.workspace, url=url)
    assert_one(events, "webhook.add", actor=w.owner, target=endpoint, workspace=w.workspace)
    with nothing_recorded(ValidationError):
        webhooks.endpoint_add(actor=w.owner, workspace=w.workspace, url="ftp://example.com/")
    with nothing_recorded(PermissionDenied):
        webhooks.endpoint_add(actor=w.viewer, workspace=w.workspace, url=url)
    with recorded() as events:
        webhooks.endpoint_update(actor=w.owner, endpoint=endpoint, url=url, event_types=["team.create"])
    assert_one(events, "webhook.update", actor=w.owner, target=endpoint, workspace=w.workspace)
    with nothing_recorded():
        webhooks.endpoint_update(actor=w.owner, endpoint=endpoint, url=url, event_types=["team.create"])
    with recorded() as events:
        webhooks.endpoint_rotate_secret(actor=w.owner, endpoint=endpoint)
    assert_one(events, "webhook.rotate_secret", actor=w.owner, target=endpoint, workspace=w.workspace)
    assert events[0].after == {"secret": "changed"}
    target = ref(endpoint)
    with recorded() as events:
        webhooks.endpoint_remove(actor=w.owner, endpoint=endpoint)
    assert [e.action for e in events] == ["webhook.remove"] and (events[0].target_type, events[0].target_id) == target


@covers(webhooks.delivery_redeliver, webhook_delivery.deliver_next)
def test_webhook_delivery(w, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 1
    endpoint, _ = webhooks.endpoint_add(actor=w.owner, workspace=w.workspace, url="http://127.0.0.1:9/hook")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)  # its own "webhook.add"
    with recorded() as events:
        webhook_delivery.deliver_next(endpoint.pk)  # nothing listens on port 9: failed, switched off
    assert_one(events, "webhook.switched_off", actor=None, target=endpoint, workspace=w.workspace)
    with nothing_recorded():
        webhook_delivery.deliver_next(endpoint.pk)  # off: nothing is tried
    with recorded() as events:
        webhooks.delivery_redeliver(actor=w.owner, delivery=delivery)
    assert_one(events, "webhook.redeliver", actor=w.owner, target=endpoint, workspace=w.workspace)
    with nothing_recorded(PermissionDenied):
        webhooks.delivery_redeliver(actor=w.viewer, delivery=delivery)


def _scim_user(user_name: str, **fields) -> scim_protocol.UserData:
    return scim_protocol.user_data({"userName": user_name, **fields})


def _scim_token(w):
    verified_domain(w)  # SCIM provisions only addresses at the workspace's verified domains
    return scim_tokens.scim_token_create(actor=w.owner, workspace=w.workspace, name="Okta")[0]


@covers(scim_services.user_provision, scim_services.user_update, scim_services.user_delete)
def test_scim_users(w):
    token = _scim_token(w)
    with system_acting("SCIM token “Okta”"):
        with recorded() as events:
            identity = scim_services.user_provision(token=token, data=_scim_user("new@acme.test"))
        assert [e.action for e in events] == ["account.create", "member.add", "scim_user.create"]
        assert {e.actor_email for e in events} == {"SCIM token “Okta”"}
        with recorded() as events:
            scim_services.user_update(token=token, identity=identity, data=_scim_user("new@acme.test", active=False))
        assert [e.action for e in events] == ["member.remove"]
        with nothing_recorded():
            scim_services.user_update(token=token, identity=identity, data=_scim_user("new@acme.test", active=False))
        with recorded() as events:
            scim_services.user_delete(identity=identity)
        assert [e.action for e in events] == ["scim_user.delete"]
        with nothing_recorded(scim_protocol.ScimError):
            scim_services.user_provision(token=token, data=_scim_user("not-an-address"))
        with nothing_recorded(scim_protocol.ScimError):
            scim_services.user_provision(token=token, data=_scim_user("someone@elsewhere.test"))


@covers(scim_services.group_create, scim_services.group_update, scim_services.group_delete)
def test_scim_groups(w):
    group = scim_protocol.GroupData
    token = _scim_token(w)
    with system_acting("SCIM token “Okta”"):
        identity = scim_services.user_provision(token=token, data=_scim_user("ann@acme.test"))
        with recorded() as events:
            team = scim_services.group_create(workspace=w.workspace, data=group("Ops", "", [str(identity.scim_id)]))
        assert [e.action for e in events] == ["team.create", "team.member_add"]
        assert {e.actor_email for e in events} == {"SCIM token “Okta”"}
        with recorded() as events:
            scim_services.group_update(team=team, data=group("Ops", "", []))
        assert [e.action for e in events] == ["team.member_remove"]
        with nothing_recorded():
            scim_services.group_update(team=team, data=group("Ops", "", []))
        with nothing_recorded(scim_protocol.ScimError):
            scim_services.group_create(workspace=w.workspace, data=group("ops", "", None))
        with recorded() as events:
            scim_services.group_delete(team=team)
        assert [e.action for e in events] == ["team.delete"]
