"""Every write to the workspace settings.

Each function checks the actor's capability through the policy (``actor=None`` is the system),
validates its input before writing anything (bad input raises ``RuleViolation`` with a message
for people and changes nothing), writes one audit event per change in the same transaction, and
writes nothing at all when nothing changes. Writes take the workspace row's lock so two people
saving the same setting at once are applied one after the other.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from kernel.locks import lock_workspace
from permissions.policy import require
from workspaces.models import Workspace

from . import attributes, integrations
from .models import (
    RETENTION_CHOICES,
    IntegrationSetting,
    IPBlockRule,
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
