"""Every write to the workspace settings.

Each function checks the actor's capability through the policy (``actor=None`` is the system),
validates its input before writing anything (bad input raises ``RuleViolation`` with a message
for people and changes nothing), writes one audit event per change in the same transaction, and
writes nothing at all when nothing changes. Writes take the workspace row's lock so two people
saving the same setting at once are applied one after the other.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from permissions.policy import require
from workspaces.models import Workspace

from . import attributes, integrations
from .certificates import read_certificate
from .models import (
    RETENTION_CHOICES,
    IntegrationSetting,
    IPBlockRule,
    SSOConfiguration,
    UserAttributeSetting,
    WorkspacePolicy,
)
from .networks import parse_lines

# --- IP blocking -----------------------------------------------------------------------------------


@transaction.atomic
def ip_rules_add(*, actor, workspace: Workspace, text: str, note: str = "") -> list[IPBlockRule]:
    """Block the addresses and ranges on the lines of ``text``: all of them, or none if any line is
    bad. One audit event for the whole submission."""
    require(actor, "manage_ip_blocking", workspace)
    lock_workspace(workspace)
    existing = IPBlockRule.objects.filter(workspace=workspace).values_list("network", flat=True)
    networks = parse_lines(text, existing=existing)
    note = (note or "").strip()[:200]
    rules = IPBlockRule.objects.bulk_create(
        [IPBlockRule(workspace=workspace, network=network, note=note, created_by=actor) for network in networks]
    )
    record(
        action="ip_block.add",
        actor=actor,
        workspace=workspace,
        target=workspace,
        after={"networks": networks, "note": note},
    )
    return rules


@transaction.atomic
def ip_rule_remove(*, actor, rule: IPBlockRule) -> None:
    """Track the rule's network again. Removing a rule already gone changes nothing."""
    require(actor, "manage_ip_blocking", rule.workspace)
    # Lock the row so two removals at once record one event.
    if not IPBlockRule.objects.select_for_update().filter(pk=rule.pk).exists():
        return
    record(
        action="ip_block.remove",
        actor=actor,
        workspace=rule.workspace,
        target=rule,
        before={"network": rule.network, "note": rule.note},
    )
    rule.delete()


# --- integrations ----------------------------------------------------------------------------------


def _integration_state(enabled: bool, settings: dict) -> dict:
    return {"enabled": enabled, "settings": settings}


@transaction.atomic
def integration_save(
    *, actor, workspace: Workspace, key: str, enabled: bool, settings: dict
) -> IntegrationSetting | None:
    """Switch an integration of the catalogue on or off and save its settings.

    Returns its row (None if it never had one and nothing changed)."""
    require(actor, "manage_integrations", workspace)
    integration = integrations.BY_KEY.get(key)
    if integration is None:
        raise RuleViolation(f"There is no integration called “{key}”.")
    try:
        cleaned = integrations.clean_settings(integration, enabled=enabled, settings=settings)
    except ValidationError as exc:
        raise RuleViolation(exc.messages) from None
    lock_workspace(workspace)
    row = IntegrationSetting.objects.filter(workspace=workspace, key=key).first()
    before = (
        _integration_state(row.enabled, row.settings)
        if row is not None
        else _integration_state(False, integrations.clean_settings(integration, enabled=False, settings={}))
    )
    after = _integration_state(bool(enabled), cleaned)
    if before == after:
        return row
    if row is None:
        row = IntegrationSetting(workspace=workspace, key=key)
    row.enabled, row.settings, row.updated_at = after["enabled"], cleaned, timezone.now()
    row.save()
    record(action="integration.update", actor=actor, workspace=workspace, target=row, before=before, after=after)
    return row


# --- user attributes -------------------------------------------------------------------------------


@transaction.atomic
def user_attribute_set(*, actor, workspace: Workspace, key: str, enabled: bool) -> UserAttributeSetting | None:
    """Switch the collection of one catalogue attribute on or off. Returns its row (None if it
    never had one and the default already was ``enabled``)."""
    require(actor, "manage_user_attributes", workspace)
    attribute = attributes.BY_KEY.get(key)
    if attribute is None:
        raise RuleViolation(f"There is no user attribute called “{key}”.")
    lock_workspace(workspace)
    row = UserAttributeSetting.objects.filter(workspace=workspace, key=key).first()
    current = row.enabled if row is not None else attribute.default
    if current == bool(enabled):
        return row
    if row is None:
        row = UserAttributeSetting(workspace=workspace, key=key)
    row.enabled, row.updated_at = bool(enabled), timezone.now()
    row.save()
    record(
        action="user_attribute.update",
        actor=actor,
        workspace=workspace,
        target=row,
        before={"attribute": key, "enabled": current},
        after={"attribute": key, "enabled": row.enabled},
    )
    return row


# --- data-collection policies ----------------------------------------------------------------------

RETENTION_DAYS = frozenset(days for days, _label in RETENTION_CHOICES)


@transaction.atomic
def policy_update(
    *,
    actor,
    workspace: Workspace,
    retention_days: int,
    anonymize_ip: bool,
    respect_do_not_track: bool,
    require_cookie_consent: bool,
    mask_text_input: bool,
) -> WorkspacePolicy:
    """Save the workspace's data-collection policies; the audit event names the changed ones."""
    require(actor, "manage_policies", workspace)
    if retention_days not in RETENTION_DAYS:
        choices = ", ".join(label for _days, label in RETENTION_CHOICES)
        raise RuleViolation(f"Choose how long to keep data: {choices}.")
    lock_workspace(workspace)
    policy = WorkspacePolicy.objects.filter(workspace=workspace).first() or WorkspacePolicy(workspace=workspace)
    wanted = {
        "retention_days": int(retention_days),
        "anonymize_ip": bool(anonymize_ip),
        "respect_do_not_track": bool(respect_do_not_track),
        "require_cookie_consent": bool(require_cookie_consent),
        "mask_text_input": bool(mask_text_input),
    }
    current = policy.state()
    changed = [name for name in WorkspacePolicy.POLICY_FIELDS if current[name] != wanted[name]]
    if not changed:
        return policy
    for name in changed:
        setattr(policy, name, wanted[name])
    policy.updated_at = timezone.now()
    policy.save()
    record(
        action="policy.update",
        actor=actor,
        workspace=workspace,
        target=policy,
        before={name: current[name] for name in changed},
        after={name: wanted[name] for name in changed},
    )
    return policy


# --- single sign-on configuration ------------------------------------------------------------------

HTTPS_URL = URLValidator(schemes=["https"])


def _is_https_url(url: str) -> bool:
    try:
        HTTPS_URL(url)
    except ValidationError:
        return False
    return len(url) <= 500


@transaction.atomic
def sso_save(*, actor, workspace: Workspace, entity_id: str, sso_url: str, certificate: str) -> SSOConfiguration:
    """Store the identity provider's SAML details for the platform's sign-in service."""
    require(actor, "manage_sso", workspace)
    entity_id, sso_url = (entity_id or "").strip(), (sso_url or "").strip()
    problems = []
    if not entity_id or len(entity_id) > 255:
        problems.append("Enter the identity provider's entity ID (at most 255 characters).")
    if not _is_https_url(sso_url):
        problems.append("Enter the single sign-on URL, starting with https:// (at most 500 characters).")
    try:
        pem, fingerprint = read_certificate(certificate)
    except RuleViolation as exc:
        problems.extend(exc.messages)
    if problems:
        raise RuleViolation(problems)
    lock_workspace(workspace)
    config = SSOConfiguration.objects.filter(workspace=workspace).first()
    before = config.state() if config is not None else None
    if config is None:
        config = SSOConfiguration(workspace=workspace)
    config.entity_id, config.sso_url, config.certificate, config.fingerprint = entity_id, sso_url, pem, fingerprint
    if config.state() == before:
        return config
    config.updated_by, config.updated_at = actor, timezone.now()
    config.save()
    record(action="sso.update", actor=actor, workspace=workspace, target=config, before=before, after=config.state())
    return config


@transaction.atomic
def sso_remove(*, actor, workspace: Workspace) -> None:
    """Forget the stored configuration; nothing to forget changes nothing."""
    require(actor, "manage_sso", workspace)
    lock_workspace(workspace)
    config = SSOConfiguration.objects.filter(workspace=workspace).first()
    if config is None:
        return
    record(action="sso.remove", actor=actor, workspace=workspace, target=config, before=config.state())
    config.delete()
