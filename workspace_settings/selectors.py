"""Reads for the settings pages and the blocklist API: each a fixed number of queries, whatever
the number of rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from permissions.policy import Access
from workspaces.models import Site, Workspace

from . import attributes, integrations
from .models import IntegrationSetting, IPBlockRule, UserAttributeSetting, WorkspacePolicy
from .networks import sort_key


def ip_rules(workspace: Workspace) -> list[IPBlockRule]:
    """The workspace's rules with their creators, IPv4 before IPv6, in address order: one query."""
    rules = IPBlockRule.objects.filter(workspace=workspace).select_related("created_by")
    return sorted(rules, key=lambda rule: sort_key(rule.network))


def sites_for_platform(workspace: Workspace) -> list[dict]:
    """What the platform's trackers need of each site: one query, in slug order."""
    rows = Site.objects.filter(workspace=workspace).order_by("slug").select_related("owner__user")
    fields = ("slug", "name", "url", "time_zone", "session_capture", "data_reset_at", "owner__user__email")
    return [
        {
            "slug": site.slug,
            "name": site.name,
            "address": site.url,
            "time_zone": site.time_zone,
            "session_capture": site.session_capture,
            "owner": site.owner.user.email,
            "data_reset_at": site.data_reset_at.isoformat() if site.data_reset_at else None,
        }
        for site in rows.only(*fields)
    ]


def blocked_networks(workspace: Workspace) -> list[str]:
    """The canonical networks excluded from tracking, in address order: one query."""
    networks = IPBlockRule.objects.filter(workspace=workspace).values_list("network", flat=True)
    return sorted(networks, key=sort_key)


@dataclass(frozen=True)
class IntegrationRow:
    integration: integrations.Integration
    enabled: bool
    settings: dict

    @property
    def filled_settings(self) -> list[tuple[str, str]]:
        """(label, value) of each setting that has a value, in catalogue order."""
        return [(f.label, self.settings[f.name]) for f in self.integration.fields if self.settings.get(f.name)]


def integration_rows(workspace: Workspace) -> list[IntegrationRow]:
    """Every integration of the catalogue with its state in the workspace: one query."""
    saved = {row.key: row for row in IntegrationSetting.objects.filter(workspace=workspace)}
    rows = []
    for integration in integrations.INTEGRATIONS:
        row = saved.get(integration.key)
        rows.append(IntegrationRow(integration, row.enabled if row else False, row.settings if row else {}))
    return rows


def integration_row(workspace: Workspace, integration: integrations.Integration) -> IntegrationRow:
    row = IntegrationSetting.objects.filter(workspace=workspace, key=integration.key).first()
    return IntegrationRow(integration, row.enabled if row else False, row.settings if row else {})


def attribute_rows(workspace: Workspace) -> list[tuple[attributes.Attribute, bool]]:
    """Every attribute of the catalogue and whether the workspace collects it: one query."""
    saved = dict(UserAttributeSetting.objects.filter(workspace=workspace).values_list("key", "enabled"))
    return [(attribute, saved.get(attribute.key, attribute.default)) for attribute in attributes.ATTRIBUTES]


def integrations_for_platform(workspace: Workspace) -> list[dict]:
    """Every integration of the catalogue, on or off, with its identifiers: one query."""
    return [
        {"key": row.integration.key, "name": row.integration.name, "enabled": row.enabled, "settings": row.settings}
        for row in integration_rows(workspace)
    ]


def attributes_for_platform(workspace: Workspace) -> list[dict]:
    """Every user attribute of the catalogue and whether it is collected: one query."""
    return [
        {"key": attribute.key, "name": attribute.name, "collected": collected}
        for attribute, collected in attribute_rows(workspace)
    ]


def policy_of(workspace: Workspace) -> WorkspacePolicy:
    """The workspace's policies; the defaults (unsaved) until someone changes them."""
    return WorkspacePolicy.objects.filter(workspace=workspace).first() or WorkspacePolicy(workspace=workspace)


def session_capture_sites(access: Access, workspace: Workspace) -> QuerySet[Site]:
    """The sites of the workspace on which the person may switch session capture: one query."""
    return access.filter("manage_session_capture", Site.objects.filter(workspace=workspace))


def may_manage_session_capture(access: Access, workspace: Workspace, sites: list[Site] | None = None) -> bool:
    """Whether the session-capture page is for this person: they hold the capability on a site
    (``sites``, if already loaded), or their role gives it on every site, so that an owner of a
    workspace without sites may open it too."""
    on_a_site = bool(sites) if sites is not None else session_capture_sites(access, workspace).exists()
    if on_a_site:
        return True
    membership = access.membership(workspace)
    return (
        membership is not None and membership.role.site_permissions.filter(codename="manage_session_capture").exists()
    )


def ip_rule_in(workspace: Workspace, pk) -> IPBlockRule:
    """The IP blocking rule ``pk`` of ``workspace`` (404 otherwise)."""
    rule = get_object_or_404(IPBlockRule, workspace=workspace, pk=pk)
    rule.workspace = workspace
    return rule
