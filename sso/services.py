"""Every write about single sign-on: connections (``manage_sso``), and signing in through one.

Connection changes check the actor's capability through the policy, validate everything before
writing, take the workspace's lock, and write one audit event per change in the same transaction.
The client secret is never part of an event (``Connection.state`` leaves it out).

``sso_sign_in`` is what happens when an identity provider sends someone back with a valid,
verified ID token: just-in-time provisioning through the accounts and membership services. Every
sign-in and every refusal is audited with the connection and the reason.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from accounts.addresses import normalize_email
from accounts.models import User
from accounts.services import account_create, account_password_set, email_verify_and_follow
from audit.services import record
from billing.limits import PlanLimitReached
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access, require, require_can_give
from workspaces.joining.selectors import domain_for_email
from workspaces.models import JoinDomain, Membership, Team, TeamMembership, Workspace
from workspaces.people.services import member_add, member_change_role
from workspaces.teams.services import team_add_member, team_remove_member

from .models import Connection, GroupRule, SSORequirement
from .selectors import bindable_domains, connection_roles, requirement_applies

logger = logging.getLogger(__name__)

# Why a sign-in was refused, as the audit log keeps it.
REFUSALS = {
    "state": "the answer did not match a sign-in started here (state)",
    "nonce": "the ID token was not issued for this sign-in (nonce)",
    "id_token": "the ID token was invalid (signature, algorithm, issuer, audience or expiry)",
    "provider": "the identity provider answered with an error",
    "discovery": "the identity provider's discovery document was unreachable, unusable or named another issuer",
    "no_email": "the identity provider gave no e-mail address",
    "email_not_verified": "the identity provider did not say the address is verified",
    "domain_not_bound": "the address is not at one of the connection's domains",
    "account_inactive": "the account is deactivated",
    "role_not_givable": "whoever set the connection's default role may no longer give it",
    "workspace_full": "the workspace's plan has no room for another member",
    # SAML 2.0 (sso/saml.py)
    "saml_response": "the SAML response was malformed or unusable",
    "saml_signature": "the SAML assertion was not signed by one of the connection's certificates",
    "saml_audience": "the SAML assertion was meant for another service provider (audience)",
    "saml_recipient": "the SAML response was sent to another address (recipient or destination)",
    "saml_time": "the SAML assertion was expired or not yet valid",
    "saml_issuer": "the SAML response came from another identity provider (issuer)",
    "saml_request": "the SAML response answered no sign-in started here (InResponseTo)",
    "saml_replay": "the SAML assertion was already used (replay)",
    # A connection test (sso/connection_test.py) whose mark was missing, expired or another person's.
    "test_expired": "the connection test was not started by this person in this browser, or has expired",
    "saml_encrypted": "the SAML assertion was encrypted, and this portal has no service-provider key to read it",
    "saml_decryption": "the encrypted SAML assertion could not be decrypted with the portal's service-provider key",
}


class SignInRefused(Exception):
    def __init__(self, reason: str, email: str = ""):
        super().__init__(REFUSALS[reason])
        self.reason, self.email = reason, email


# --- connections -----------------------------------------------------------------------------------


def _check_issuer(issuer: str) -> str:
    issuer = (issuer or "").strip()
    schemes = ["https", "http"] if settings.SSO_ALLOW_HTTP_ISSUER else ["https"]
    try:
        URLValidator(schemes=schemes)(issuer)
    except ValidationError as exc:
        raise RuleViolation("Enter the issuer URL of the identity provider, starting with https://.") from exc
    if len(issuer) > 500 or "?" in issuer or "#" in issuer:
        raise RuleViolation("The issuer URL is at most 500 characters, without a query or fragment.")
    return issuer.removesuffix("/.well-known/openid-configuration")


def _check_role(actor, workspace: Workspace, role: Role) -> None:
    if role.scope != catalog.WORKSPACE or role.workspace_id not in (None, workspace.pk):
        raise RuleViolation(f"“{role}” is not a workspace role of {workspace}.")
    if role.builtin and role.key == catalog.OWNER:
        raise RuleViolation("Single sign-on never makes anyone an owner: choose another role.")
    require_can_give(actor, role, workspace)  # rule 3


def _check_domains(workspace: Workspace, domains, connection: Connection | None) -> list[JoinDomain]:
    domains = list(domains)
    if not domains:
        raise RuleViolation("Choose at least one verified join domain whose addresses sign in through this connection.")
    allowed = set(bindable_domains(workspace).values_list("pk", flat=True))
    if any(domain.pk not in allowed for domain in domains):
        raise RuleViolation("A connection admits only this workspace's verified join domains.")
    taken = JoinDomain.objects.filter(pk__in=[d.pk for d in domains], sso_connections__isnull=False)
    if connection is not None:
        taken = taken.exclude(sso_connections=connection)
    if names := sorted(taken.values_list("domain", flat=True).distinct()):
        raise RuleViolation(f"Already signed in through another connection: {', '.join(names)}.")
    return domains


def _check_text(name: str, client_id: str) -> tuple[str, str]:
    name, client_id = (name or "").strip(), (client_id or "").strip()
    if not name or len(name) > 100:
        raise RuleViolation("Enter a name for the connection (at most 100 characters).")
    if not client_id or len(client_id) > 255:
        raise RuleViolation("Enter the client ID the identity provider gave you (at most 255 characters).")
    return name, client_id


def _check_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not secret or len(secret) > 500:
        raise RuleViolation("Enter the client secret the identity provider gave you (at most 500 characters).")
    return secret


def _name_free(workspace: Workspace, name: str, connection: Connection | None) -> None:
    others = Connection.objects.filter(workspace=workspace, name=name)
    if connection is not None:
        others = others.exclude(pk=connection.pk)
    if others.exists():
        raise RuleViolation(f"Another connection is already called “{name}”.")


@transaction.atomic
def connection_add(
    *,
    actor,
    workspace: Workspace,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    domains,
    default_role: Role,
    enabled: bool = True,
    trust_idp_mfa: bool = False,
) -> Connection:
    require(actor, "manage_sso", workspace)
    name, client_id = _check_text(name, client_id)
    issuer, client_secret = _check_issuer(issuer), _check_secret(client_secret)
    _check_role(actor, workspace, default_role)
    lock_workspace(workspace)
    domains = _check_domains(workspace, domains, None)
    _name_free(workspace, name, None)
    connection = Connection.objects.create(
        workspace=workspace,
        name=name,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        default_role=default_role,
        enabled=enabled,
        trust_idp_mfa=bool(trust_idp_mfa),
        updated_by=actor,
    )
    connection.domains.set(domains)
    record(action="sso_connection.add", actor=actor, workspace=workspace, target=connection, after=connection.state())
    return connection


@transaction.atomic
def connection_update(
    *,
    actor,
    connection: Connection,
    name: str,
    issuer: str,
    client_id: str,
    domains,
    default_role: Role,
    enabled: bool,
    client_secret: str = "",
    trust_idp_mfa: bool | None = None,
) -> Connection:
    """Change a connection; an empty ``client_secret`` keeps the stored one, and ``trust_idp_mfa``
    None keeps whether the identity provider's multi-factor sign-in is trusted."""
    workspace = connection.workspace
    require(actor, "manage_sso", workspace)
    name, client_id = _check_text(name, client_id)
    issuer = _check_issuer(issuer)
    new_secret = _check_secret(client_secret) if (client_secret or "").strip() else ""
    if default_role.pk != connection.default_role_id:
        _check_role(actor, workspace, default_role)
    lock_workspace(workspace)
    domains = _check_domains(workspace, domains, connection)
    _name_free(workspace, name, connection)
    before = connection.state()
    connection.name, connection.issuer, connection.client_id = name, issuer, client_id
    connection.default_role, connection.enabled = default_role, enabled
    if trust_idp_mfa is not None:
        connection.trust_idp_mfa = bool(trust_idp_mfa)
    secret_changed = bool(new_secret) and new_secret != connection.client_secret
    if secret_changed:
        connection.client_secret = new_secret
    connection.domains.set(domains)
    after = connection.state()
    if after == before and not secret_changed:
        return connection
    connection.updated_by, connection.updated_at = actor, timezone.now()
    connection.save()
    if secret_changed:
        after = {**after, "client_secret": "changed"}  # that it changed, never what it is
    record(
        action="sso_connection.update", actor=actor, workspace=workspace, target=connection, before=before, after=after
    )
    return connection


@transaction.atomic
def connection_set_enabled(*, actor, connection: Connection, enabled: bool) -> Connection:
    workspace = connection.workspace
    require(actor, "manage_sso", workspace)
    lock_workspace(workspace)
    if connection.enabled == enabled:
        return connection
    connection.enabled, connection.updated_by, connection.updated_at = enabled, actor, timezone.now()
    connection.save(update_fields=["enabled", "updated_by", "updated_at"])
    action = "sso_connection.enable" if enabled else "sso_connection.disable"
    record(action=action, actor=actor, workspace=workspace, target=connection, after={"enabled": enabled})
    return connection


@transaction.atomic
def connection_remove(*, actor, connection: Connection) -> None:
    workspace = connection.workspace
    require(actor, "manage_sso", workspace)
    lock_workspace(workspace)
    record(
        action="sso_connection.remove", actor=actor, workspace=workspace, target=connection, before=connection.state()
    )
    connection.delete()


# --- signing in ------------------------------------------------------------------------------------


def sso_refusal_record(*, connection: Connection, reason: str, email: str = "") -> None:
    """Audit a refused sign-in, in its own transaction (nothing else was written)."""
    with transaction.atomic():
        record(
            action="sso.refused",
            workspace=connection.workspace,
            target=connection,
            after={"connection": connection.name, "reason": reason, "email": email[:254]},
        )


def _verified_claim(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _address(connection: Connection, claims: dict) -> str:
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw.strip():
        raise SignInRefused("no_email")
    email = normalize_email(raw)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise SignInRefused("no_email") from exc
    if not _verified_claim(claims.get("email_verified")):
        raise SignInRefused("email_not_verified", email)
    join_domain = domain_for_email(email)
    bound = join_domain is not None and connection.domains.filter(pk=join_domain.pk).exists()
    if not bound or join_domain.workspace_id != connection.workspace_id:
        raise SignInRefused("domain_not_bound", email)
    return email


@transaction.atomic
def sso_sign_in(*, connection: Connection, claims: dict, mfa: bool = False) -> tuple[User, Membership]:
    """The person the identity provider vouches for: their account and their membership of the
    connection's workspace, made on their first sign-in (the address counts as verified, the
    membership has the connection's default role). Raises ``SignInRefused``; nothing is written
    then. Never touches another workspace than the connection's.

    ``mfa``: whether the identity provider said the sign-in was multi-factor (``sso.mfa``),
    audited with it; what the session makes of it is the caller's (``sso.sessions``)."""
    email = _address(connection, claims)
    workspace = connection.workspace
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is not None and not user.is_active:
        raise SignInRefused("account_inactive", email)
    membership = Membership.objects.filter(workspace=workspace, user=user).select_related("role").first()
    if membership is None:
        setter = connection.updated_by
        if setter is not None and not Access(setter).can_give(connection.default_role, workspace):
            raise SignInRefused("role_not_givable", email)
    if created:
        user = account_create(actor=None, email=email, password=None)
        name = claims.get("name")
        if isinstance(name, str) and name.strip():
            user.full_name = name.strip()[:150]
            user.save(update_fields=["full_name"])
    elif user.email_verified_at is None and user.has_usable_password():
        # Nobody proved that whoever chose this password owns the address; the provider just did.
        account_password_set(actor=None, user=user, password=None, via="sso")
    joined = membership is None
    if joined:
        try:
            membership = member_add(
                workspace=workspace, user=user, role=connection.default_role, actor=user, action="member.sso_join"
            )
        except PlanLimitReached as exc:
            raise SignInRefused("workspace_full", email) from exc
    if user.email_verified_at is None:
        email_verify_and_follow(user)  # after joining, so joining by domain finds the membership made
    membership = _apply_group_mapping(connection, membership, claims)
    record(
        action="sso.sign_in",
        actor=user,
        workspace=workspace,
        target=connection,
        after={
            "connection": connection.name,
            "email": email,
            "account_created": created,
            "joined": joined,
            "mfa": bool(mfa),
            "mfa_trusted": bool(mfa) and connection.trust_idp_mfa,
        },
    )
    return user, membership


# --- required single sign-on -----------------------------------------------------------------------

NO_CONNECTION_TO_REQUIRE = (
    "Single sign-on can be required only once an enabled connection admits at least one domain: "
    "add or enable one first."
)


@transaction.atomic
def sso_requirement_set(*, actor, workspace: Workspace, required: bool) -> SSORequirement:
    """Require members at the domains of the workspace's enabled connections to sign in through
    its identity provider to open its pages, or stop requiring it. Turning it on is refused
    unless an enabled connection admits at least one domain. Nothing is written when nothing
    changes."""
    require(actor, "manage_sso", workspace)
    lock_workspace(workspace)
    if required and not requirement_applies(workspace):
        raise RuleViolation(NO_CONNECTION_TO_REQUIRE)
    requirement, _ = SSORequirement.objects.get_or_create(workspace=workspace)
    if requirement.required == required:
        return requirement
    requirement.required, requirement.changed_by, requirement.changed_at = required, actor, timezone.now()
    requirement.save(update_fields=["required", "changed_by", "changed_at"])
    record(
        action="sso.required",
        actor=actor,
        workspace=workspace,
        target=workspace,
        before={"sso_required": not required},
        after={"sso_required": required},
    )
    return requirement


def sso_bypass_record(*, user: User, workspace: Workspace, connection: Connection) -> None:
    """Audit an owner opening a workspace that requires single sign-on with a session verified by
    two-factor authentication instead (the owners' way back in when the identity provider fails)."""
    with transaction.atomic():
        record(
            action="sso.bypass",
            actor=user,
            workspace=workspace,
            target=connection,
            after={"connection": connection.name, "email": user.email},
        )


# --- group mapping ---------------------------------------------------------------------------------

MAX_RULES = 200
MAX_CLAIM_VALUES = 1000


def _clean_line_text(text: str, what: str, limit: int) -> str:
    text = text.strip()
    if not text or len(text) > limit or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise RuleViolation(f"{what} is 1 to {limit} printable characters.")
    return text


def _parse_group_mapping(workspace: Workspace, text: str) -> list[tuple[str, Role | None, Team | None]]:
    """Lines ``claim value = role or team``: a role by its key or name (any workspace role of this
    workspace but Owner), else a team of this workspace by its name. Empty lines and lines starting
    with ``#`` are skipped. Raises ``RuleViolation`` naming the lines it cannot read."""
    roles = list(connection_roles(workspace))
    teams = list(Team.objects.filter(workspace=workspace))
    rules, errors, seen = [], [], set()
    lines = (text or "").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        value, sep, target = line.partition("=")
        try:
            if not sep:
                raise RuleViolation("write “claim value = role or team”")
            value = _clean_line_text(value, "A claim value", 255)
            target = _clean_line_text(target, "A role or team", 100)
        except RuleViolation as exc:
            errors.append(f"Line {number}: {exc.messages[0]}")
            continue
        wanted = target.casefold()
        if wanted == catalog.OWNER or wanted == "owner":
            errors.append(f"Line {number}: a group mapping never makes anyone an owner.")
            continue
        role = next((r for r in roles if (r.builtin and r.key == wanted) or r.name.casefold() == wanted), None)
        team = None if role else next((t for t in teams if t.name.casefold() == wanted), None)
        if role is None and team is None:
            errors.append(f"Line {number}: “{target[:100]}” is neither a role nor a team of {workspace}.")
            continue
        key = (value, role.pk if role else None, team.pk if team else None)
        if key not in seen:
            seen.add(key)
            rules.append((value, role, team))
    if len(rules) > MAX_RULES:
        errors.append(f"At most {MAX_RULES} lines.")
    if errors:
        raise RuleViolation(errors[:20])
    return rules


def _mapping_state(connection: Connection) -> dict:
    rules = connection.group_rules.select_related("role", "team")
    return {"group_claim": connection.group_claim, "rules": [str(rule) for rule in rules]}


@transaction.atomic
def connection_mapping_set(*, actor, connection: Connection, group_claim: str, text: str) -> Connection:
    """Save a connection's group mapping (replacing the previous one). Every role must be one the
    person may give, never Owner, and every team one they may add people to (rule 3): at each
    sign-in the mapping gives them in this person's name."""
    workspace = connection.workspace
    require(actor, "manage_sso", workspace)
    group_claim = _clean_line_text(group_claim or "groups", "The claim's name", 100)
    rules = _parse_group_mapping(workspace, text)
    if any(role for _, role, _ in rules):
        require(actor, "change_member_roles", workspace)
    if any(team for _, _, team in rules):
        require(actor, "manage_teams", workspace)
    for _, role, team in rules:
        require_can_give(actor, role or team, workspace)
    lock_workspace(workspace)
    before = _mapping_state(connection)
    connection.group_rules.all().delete()
    GroupRule.objects.bulk_create(
        GroupRule(connection=connection, position=i, value=value, role=role, team=team)
        for i, (value, role, team) in enumerate(rules)
    )
    connection.group_claim = group_claim
    after = _mapping_state(connection)
    if after == before:
        return connection
    connection.mapping_set_by, connection.updated_at = actor, timezone.now()
    connection.save(update_fields=["group_claim", "mapping_set_by", "updated_at"])
    record(
        action="sso_connection.mapping",
        actor=actor,
        workspace=workspace,
        target=connection,
        before=before,
        after=after,
    )
    return connection


def _claim_values(raw) -> set[str]:
    """The claim's values: a string or a list of strings; anything else counts for nothing."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return set()
    return {value.strip() for value in raw[:MAX_CLAIM_VALUES] if isinstance(value, str) and len(value) <= 255}


class MappingPlan(NamedTuple):
    """What a connection's group mapping does at one sign-in (``group_mapping_plan``)."""

    role: Role | None  # the role it gives, when that changes the membership's
    add: list[Team]  # mapped teams the claim names that the person is not in
    remove: list[Team]  # mapped teams the claim does not name that the person is in
    not_applied: str  # why the mapping does nothing at all, or ""


def group_mapping_plan(connection: Connection, membership: Membership | None, claims: dict) -> MappingPlan:
    """What the group mapping would change for ``membership`` (None: someone about to join with
    the connection's default role), reading only. ``_apply_group_mapping`` carries it out; a
    connection test shows it."""
    rules = list(connection.group_rules.select_related("role", "team"))
    setter = connection.mapping_set_by
    if not rules:
        return MappingPlan(None, [], [], "the connection has no group mapping")
    if membership is not None and membership.role.is_owner:
        return MappingPlan(None, [], [], "owners are never changed by a group mapping")
    if setter is None or not setter.is_active:
        return MappingPlan(None, [], [], "whoever saved the group mapping is no longer an active account")
    values = _claim_values(claims.get(connection.group_claim))
    matched = [rule for rule in rules if rule.value in values]
    current_role_id = membership.role_id if membership is not None else connection.default_role_id
    role = next((rule.role for rule in matched if rule.role_id), None)
    if role is None or role.pk == current_role_id or role.is_owner:
        role = None
    wanted = {rule.team_id for rule in matched if rule.team_id}
    mapped = {rule.team_id: rule.team for rule in rules if rule.team_id}
    current = set()
    if membership is not None:
        current = set(
            TeamMembership.objects.filter(membership=membership, team_id__in=mapped).values_list("team_id", flat=True)
        )
    add = [team for team_id, team in mapped.items() if team_id in wanted and team_id not in current]
    remove = [team for team_id, team in mapped.items() if team_id not in wanted and team_id in current]
    return MappingPlan(role, add, remove, "")


def _apply_group_mapping(connection: Connection, membership: Membership, claims: dict) -> Membership:
    """Apply the connection's group mapping to someone who just signed in through it: the role of
    the first line whose value the claim carries, and membership of exactly the mapped teams whose
    values it carries (teams the mapping does not name are left alone). Owners are never touched.
    Each change goes through the membership and team services, in the name of whoever saved the
    mapping, so rule 3 and the audit log apply as for any change; one they refuse is skipped."""
    plan = group_mapping_plan(connection, membership, claims)
    setter = connection.mapping_set_by
    changes = []
    if plan.role is not None:
        changes.append(lambda: member_change_role(actor=setter, membership=membership, role=plan.role))
    for team in plan.add:
        changes.append(lambda team=team: team_add_member(actor=setter, team=team, membership=membership))
    for team in plan.remove:
        changes.append(lambda team=team: team_remove_member(actor=setter, team=team, membership=membership))
    for change in changes:
        try:
            with transaction.atomic():
                change()
        except (RuleViolation, PermissionDenied) as exc:
            logger.info("Group mapping of connection %s skipped a change: %s", connection.pk, type(exc).__name__)
    return membership


# --- testing a connection --------------------------------------------------------------------------

TEST_OUTCOMES = ("passed", "would_refuse", "refused")


def connection_test_record(*, actor, connection: Connection, outcome: str, reason: str = "") -> None:
    """Audit a connection test (``sso.connection_test``): the connection, the outcome (``passed``,
    ``would_refuse``: the answer was verified but the sign-in would be refused, ``refused``: the
    answer failed verification) and the reason. Never the claims, attributes or tokens."""
    if outcome not in TEST_OUTCOMES or (reason and reason not in REFUSALS):
        raise ValueError("unknown connection test outcome")
    with transaction.atomic():
        record(
            action="sso.connection_test",
            actor=actor,
            workspace=connection.workspace,
            target=connection,
            after={"connection": connection.name, "outcome": outcome, "reason": reason},
        )
