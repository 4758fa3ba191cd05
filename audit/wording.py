"""Audit events in words, for the activity page and its CSV export.

Services name their actions ``<thing>.<verb>`` (``member.role_change``). ``ACTION_WORDS`` says the
known ones in plain English; an action added later still reads well enough through
``action_label``'s fallback ("viewer_group.member_add" → "Viewer group: member add"), so a new
service never breaks the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder

ACTION_WORDS = {
    "workspace.create": "Created the workspace",
    "workspace.update": "Changed the workspace details",
    "workspace.delete": "Deleted the workspace",
    "workspace.two_factor_required": "Changed the two-factor requirement",
    "member.join": "Joined the workspace",
    "member.add": "Added a member",
    "member.auto_join": "Joined by e-mail domain",
    "member.role_change": "Changed a member's role",
    "member.remove": "Removed a member",
    "member.leave": "Left the workspace",
    "ownership.grant": "Made a member an owner",
    "ownership.step_down": "Stepped down as owner",
    "invite.create": "Invited someone",
    "invite.refresh": "Updated a pending invitation",
    "invite.resend": "Resent an invitation",
    "invite.revoke": "Revoked an invitation",
    "invite.accept": "Accepted an invitation",
    "invite.purge": "Deleted expired invitations",
    "join_domain.add": "Added a join domain",
    "join_domain.update": "Changed a join domain",
    "join_domain.verify": "Verified a join domain",
    "join_domain.suspend": "Suspended a join domain",
    "join_domain.restore": "Restored a join domain",
    "join_domain.remove": "Removed a join domain",
    "join_request.create": "Asked to join",
    "join_request.approve": "Approved a request to join",
    "join_request.decline": "Declined a request to join",
    "role.create": "Created a custom role",
    "role.update": "Changed a custom role",
    "role.delete": "Deleted a custom role",
    "team.create": "Created a team",
    "team.update": "Changed a team",
    "team.delete": "Deleted a team",
    "team.member_add": "Added someone to a team",
    "team.member_remove": "Removed someone from a team",
    "site.create": "Created a site",
    "site.update": "Changed a site",
    "site.delete": "Deleted a site",
    "site.reset": "Reset a site's data",
    "site.owner_change": "Changed a site's owner",
    "site.session_capture": "Changed session capture",
    "site_grant.set": "Gave site access",
    "site_grant.revoke": "Revoked site access",
    "experience.create": "Created an experience",
    "experience.update": "Changed an experience",
    "experience.publish": "Published an experience",
    "experience.unpublish": "Unpublished an experience",
    "experience.delete": "Deleted an experience",
    "collaborator.add": "Added a collaborator",
    "collaborator.remove": "Removed a collaborator",
    "viewer_group.create": "Created a viewer group",
    "viewer_group.update": "Changed a viewer group",
    "viewer_group.delete": "Deleted a viewer group",
    "viewer_group.member_add": "Added a viewer to a group",
    "viewer_group.member_remove": "Removed a viewer from a group",
    "access_key.create": "Created an access key",
    "access_key.revoke": "Revoked an access key",
    "scim_token.create": "Created a SCIM token",
    "scim_token.set_role": "Changed the role a SCIM token provisions with",
    "scim_token.revoke": "Revoked a SCIM token",
    "scim_user.create": "Provisioned a user",
    "scim_user.update": "Changed a provisioned user",
    "scim_user.delete": "Deleted a provisioned user",
    "ip_block.add": "Blocked an IP address",
    "ip_block.remove": "Unblocked an IP address",
    "integration.update": "Changed an integration",
    "user_attribute.update": "Changed a user attribute",
    "policy.update": "Changed a data-collection policy",
    # The earlier settings' SAML details (removed; their rows became SAML connections): no code
    # records these any more, and past events keep their words.
    "sso.update": "Changed the SAML details (earlier settings)",
    "sso.remove": "Removed the SAML details (earlier settings)",
    "sso_connection.add": "Added a single sign-on connection",
    "sso_connection.update": "Changed a single sign-on connection",
    "sso_connection.enable": "Enabled a single sign-on connection",
    "sso_connection.disable": "Disabled a single sign-on connection",
    "sso_connection.remove": "Removed a single sign-on connection",
    "sso_connection.mapping": "Changed a single sign-on connection's group mapping",
    "sso.sign_in": "Signed in with single sign-on",
    "sso.required": "Changed the single sign-on requirement",
    "sso.bypass": "Opened the workspace with two-factor authentication instead of single sign-on",
    "sso.refused": "Single sign-on refused",
    "sso.connection_test": "Tested a single sign-on connection",
    "member.sso_join": "Joined by single sign-on",
    "billing.plan_upgrade": "Upgraded the plan",
    "billing.plan_request": "Asked for a plan change",
    "billing.plan_request_done": "Plan change carried out",
    "billing.plan_request_declined": "Plan change declined",
    "billing.plan_set": "Plan set by staff",
    "billing.details_update": "Changed the billing details",
    "billing.contact_add": "Added a billing e-mail address",
    "billing.contact_remove": "Removed a billing e-mail address",
    "billing.invoice_create": "Issued an invoice",
    "billing.invoice_status": "Changed an invoice's status",
    "data_request.create": "Asked for a tracked person's data",
    "data_request.status": "Data request moved along",
    "webhook.add": "Added a webhook endpoint",
    "webhook.update": "Changed a webhook endpoint",
    "webhook.rotate_secret": "Rotated a webhook endpoint's secret",
    "webhook.remove": "Removed a webhook endpoint",
    "webhook.redeliver": "Redelivered a webhook event",
    "webhook.switched_off": "Switched off a failing webhook endpoint",
}

# What each kind of target is called, by the model name the audit log stores as its type. The one
# place a type becomes words: the activity page shows "join domain demo.test", not "joindomain".
# An empty word: the target's own text already says what it is ("Data export request 12").
TARGET_WORDS = {
    "workspace": "workspace",
    "workspacesecurity": "two-factor requirement",
    "membership": "member",
    "user": "account",
    "invite": "invitation to",
    "joindomain": "join domain",
    "joinrequest": "request to join from",
    "role": "role",
    "team": "team",
    "site": "site",
    "sitegrant": "site grant",
    "experience": "experience",
    "collaborator": "collaborator",
    "viewergroup": "viewer group",
    "viewerlink": "",
    "accesskey": "access key",
    "scimtoken": "SCIM token",
    "scimuser": "provisioned user",
    "ipblockrule": "blocked addresses",
    "integrationsetting": "integration",
    "userattributesetting": "user attribute",
    "workspacepolicy": "data-collection policy",
    "connection": "single sign-on connection",
    "billingaccount": "billing details",
    "billingcontact": "billing e-mail",
    "planchangerequest": "",
    "invoice": "invoice",
    "datarequest": "",
    "endpoint": "webhook endpoint",
}
# Targets whose own text means nothing to a reader (a membership prints as ids, an invitation as
# "Invite for …"): name them from the event's state instead.
NAMED_BY_STATE = {"membership": "user", "invite": "email", "joinrequest": "user"}
# Targets whose word says everything: their text ("Billing of workspace 3") is not shown.
UNNAMED = frozenset({"billingaccount", "workspacesecurity", "workspacepolicy"})


def action_label(action: str) -> str:
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    thing, _, verb = action.partition(".")
    words = thing.replace("_", " ").capitalize()
    return f"{words}: {verb.replace('_', ' ')}" if verb else words


# Target types of models the portal no longer has, so that their past events still read.
RETIRED_TARGET_WORDS = {
    "ssoconfiguration": "SAML details (earlier settings)",
}


def target_type_label(target_type: str) -> str:
    """The words for a target type; a type added later reads as its model name with spaces."""
    if target_type in TARGET_WORDS:
        return TARGET_WORDS[target_type]
    if target_type in RETIRED_TARGET_WORDS:
        return RETIRED_TARGET_WORDS[target_type]
    return target_type.replace("_", " ")


def target_label(target_type: str, target_repr: str, before: dict | None, after: dict | None) -> str:
    if target_type in UNNAMED:
        return ""
    key = NAMED_BY_STATE.get(target_type)
    if key is not None:
        for state in (after, before):
            if isinstance(state, dict) and state.get(key):
                return str(state[key])
    return target_repr


@dataclass(frozen=True)
class FieldChange:
    """One field of an event's state: ``kind`` is "changed", "added", "removed" or "same"."""

    name: str
    before: str
    after: str
    kind: str


def show(value) -> str:
    """A stored value as a reader wants it: lists as commas, booleans as yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show(item) for item in value) if value else "none"
    if isinstance(value, dict):
        return as_json(value)
    return str(value)


def as_json(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def field_changes(before, after) -> list[FieldChange]:
    """The fields of ``before`` and ``after`` side by side, changed ones first."""
    if not isinstance(before, dict | None) or not isinstance(after, dict | None):
        return [FieldChange("state", show(before), show(after), "changed")]  # not a service's dict
    before, after = before or {}, after or {}
    changes = []
    for name in list(before) + [name for name in after if name not in before]:
        kind = _kind(name, before, after)
        changes.append(FieldChange(name.replace("_", " "), show(before.get(name)), show(after.get(name)), kind))
    order = {"changed": 0, "added": 1, "removed": 2, "same": 3}
    return sorted(changes, key=lambda change: order[change.kind])


def _kind(name: str, before: dict, after: dict) -> str:
    if name not in before:
        return "added"
    if name not in after:
        return "removed"
    return "same" if before[name] == after[name] else "changed"
