"""Writes of SAML 2.0 connections (``manage_sso``), and the one-use record of accepted assertions.

The same rules as OpenID Connect connections (``sso.services``): the actor's capability through
the policy, only the workspace's verified join domains, each bound to one connection, a default
role that is never Owner and that the actor may give (rule 3), the workspace's lock, one audit event
per change in the same transaction. The identity provider's side is read from its pasted metadata
(``saml_metadata.parse_idp_metadata``); ``Connection.state`` keeps the entity ID, the single
sign-on URL and how many certificates, never the certificates themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from permissions.models import Role
from permissions.policy import require
from workspaces.models import Workspace

from .models import Connection, SamlAssertion
from .saml_metadata import parse_idp_metadata
from .services import SignInRefused, _check_domains, _check_role, _name_free

# How long an assertion ID is kept when the assertion names no end of validity.
ASSERTION_MEMORY = timedelta(days=1)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise RuleViolation("Enter a name for the connection (at most 100 characters).")
    return name


@transaction.atomic
def saml_connection_add(
    *,
    actor,
    workspace: Workspace,
    name: str,
    metadata_xml: str,
    domains,
    default_role: Role,
    enabled: bool = True,
    trust_idp_mfa: bool = False,
) -> Connection:
    require(actor, "manage_sso", workspace)
    name = _check_name(name)
    idp = parse_idp_metadata(metadata_xml)
    _check_role(actor, workspace, default_role)
    lock_workspace(workspace)
    domains = _check_domains(workspace, domains, None)
    _name_free(workspace, name, None)
    connection = Connection.objects.create(
        workspace=workspace,
        name=name,
        kind=Connection.Kind.SAML,
        issuer="",
        client_id="",
        client_secret="",
        default_role=default_role,
        enabled=enabled,
        trust_idp_mfa=bool(trust_idp_mfa),
        updated_by=actor,
        **idp,
    )
    connection.domains.set(domains)
    record(action="sso_connection.add", actor=actor, workspace=workspace, target=connection, after=connection.state())
    return connection


@transaction.atomic
def saml_connection_update(
    *,
    actor,
    connection: Connection,
    name: str,
    domains,
    default_role: Role,
    enabled: bool,
    metadata_xml: str = "",
    trust_idp_mfa: bool | None = None,
) -> Connection:
    """Change a SAML connection; empty ``metadata_xml`` keeps the identity provider's settings,
    and ``trust_idp_mfa`` None whether its multi-factor sign-in is trusted."""
    if not connection.is_saml:
        raise RuleViolation("This is not a SAML connection.")
    workspace = connection.workspace
    require(actor, "manage_sso", workspace)
    name = _check_name(name)
    idp = parse_idp_metadata(metadata_xml) if (metadata_xml or "").strip() else {}
    if default_role.pk != connection.default_role_id:
        _check_role(actor, workspace, default_role)
    lock_workspace(workspace)
    domains = _check_domains(workspace, domains, connection)
    _name_free(workspace, name, connection)
    before = connection.state()
    certificates_before = list(connection.idp_certificates)
    connection.name, connection.default_role, connection.enabled = name, default_role, enabled
    if trust_idp_mfa is not None:
        connection.trust_idp_mfa = bool(trust_idp_mfa)
    for field, value in idp.items():
        setattr(connection, field, value)
    connection.domains.set(domains)
    after = connection.state()
    certificates_changed = list(connection.idp_certificates) != certificates_before
    if after == before and not certificates_changed:
        return connection
    connection.updated_by, connection.updated_at = actor, timezone.now()
    connection.save()
    if certificates_changed:
        after = {**after, "idp_certificates_changed": True}
    record(
        action="sso_connection.update", actor=actor, workspace=workspace, target=connection, before=before, after=after
    )
    return connection


def saml_assertion_use(*, connection: Connection, assertion_id: str, not_on_or_after) -> None:
    """Record an accepted assertion's ID, once: a second use is a replay (``SignInRefused``).
    Committed on its own, so a refused sign-in still spends the assertion."""
    if not assertion_id:
        raise SignInRefused("saml_response")
    now = timezone.now()
    expires = datetime.fromtimestamp(not_on_or_after, tz=UTC) if not_on_or_after else now + ASSERTION_MEMORY
    try:
        with transaction.atomic():
            SamlAssertion.objects.filter(expires_at__lt=now - ASSERTION_MEMORY).delete()
            SamlAssertion.objects.create(connection=connection, assertion_id=assertion_id[:255], expires_at=expires)
    except IntegrityError as exc:
        raise SignInRefused("saml_replay") from exc
