"""The capability catalog and the built-in roles: the single source of permission data.

Model ``Meta.permissions``, the built-in role rows, presets, the matrix pages, the docs and the
generated tests all read this module. Codenames are a public contract (the check API and other
services use them): add new ones if needed, never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass

WORKSPACE = "workspace"
SITE = "site"
EXPERIENCE = "experience"
SCOPES = (WORKSPACE, SITE, EXPERIENCE)

# The model each scope's capabilities are stored on, as "app_label.model_name".
SCOPE_MODELS = {WORKSPACE: "workspaces.workspace", SITE: "workspaces.site", EXPERIENCE: "workspaces.experience"}


@dataclass(frozen=True)
class Capability:
    codename: str
    scope: str
    area: str
    description: str

    @property
    def label(self) -> str:
        return self.codename.replace("_", " ").capitalize()


def _caps(scope: str, rows: list[tuple[str, str, str]]) -> tuple[Capability, ...]:
    return tuple(Capability(codename, scope, area, description) for codename, area, description in rows)


WORKSPACE_CAPABILITIES = _caps(
    WORKSPACE,
    [
        ("view_workspace", "Workspace", "Open the workspace; list the sites and experiences one may see"),
        ("view_workspace_settings", "Workspace", "See the settings pages"),
        ("change_workspace", "Workspace", "Change the name, time zone and details"),
        ("delete_workspace", "Workspace", "Delete the workspace"),
        ("view_usage", "Workspace", "See usage statistics"),
        (
            "manage_billing",
            "Billing",
            "Plan changes, billing details and e-mails, downgrade or cancellation requests, invoices",
        ),
        ("view_members", "People", "See the member list, pending invites and who is in which team"),
        ("invite_members", "People", "Invite one or many people; resend and revoke invites"),
        ("change_member_roles", "People", "Change a member's workspace role (never to or from Owner)"),
        ("remove_members", "People", "Remove a member (never an owner)"),
        ("manage_owners", "People", "Make and unmake owners, transfer ownership"),
        ("export_members", "People", "Download the member list (CSV)"),
        ("view_member_activity", "People", "See the audit log"),
        ("manage_roles", "People", "Custom roles and presets"),
        ("manage_teams", "People", "Teams, their members and their site grants"),
        ("add_site", "Sites", "Create sites"),
        ("manage_site_access", "Sites", "Grant and revoke site roles on every site; set site owners"),
        ("add_experience", "Experiences", "Create experiences"),
        ("change_all_experiences", "Experiences", "Every experience capability on every experience"),
        ("manage_viewer_groups", "Experiences", "Create and edit viewer groups"),
        ("view_all_analytics", "Analytics", "Aggregated analytics of all sites and experiences"),
        ("manage_sso", "Security", "Single sign-on settings"),
        ("manage_two_factor_policy", "Security", "Require two-factor authentication"),
        ("manage_auto_join", "Security", "Join domains and auto-join"),
        ("manage_ip_blocking", "Settings", "IP addresses excluded from tracking"),
        ("manage_integrations", "Settings", "Enable and disable integrations"),
        ("manage_user_attributes", "Settings", "Enable and disable user attributes"),
        ("manage_policies", "Settings", "Data-collection policies"),
        ("view_access_keys", "Settings", "API access keys"),
        ("manage_alert_subscriptions", "Settings", "Custom alerts and automatic insights subscriptions"),
        ("manage_lexicon", "Data", "Drop, merge and hide events and properties; descriptions; tags"),
        ("manage_scheduled_reports", "Data", "Automatic reports"),
        ("request_data_export", "Data & privacy", "Request an export of a tracked person's data"),
        ("request_data_deletion", "Data & privacy", "Request deletion of a tracked person's data"),
    ],
)

SITE_CAPABILITIES = _caps(
    SITE,
    [
        ("view_site", "Site", "See the site, its data and reports"),
        ("change_site", "Site", "Site settings, name, time zone"),
        ("delete_site", "Site", "Delete the site"),
        ("reset_site", "Site", "Reset the site's data"),
        ("manage_session_capture", "Site", "Enable and disable capture for heatmaps and recordings"),
        ("view_dashboards", "Dashboards", "View all dashboards and reports"),
        ("view_shared_dashboards", "Dashboards", "Limited: shared or predefined dashboards only"),
        ("add_dashboards", "Dashboards", "Create dashboards and reports"),
        ("change_dashboards", "Dashboards", "Edit and save dashboards, add trends"),
        ("delete_dashboards", "Dashboards", "Delete dashboards"),
        ("export_data", "Dashboards", "Share or export data"),
        ("view_experiments", "Experiments", "View all experiments and results"),
        ("view_shared_experiments", "Experiments", "Limited: selected experiments only"),
        ("add_experiments", "Experiments", "Create experiments"),
        ("change_experiments", "Experiments", "Edit experiments"),
        ("run_experiments", "Experiments", "Start and stop experiments"),
        ("delete_experiments", "Experiments", "Delete experiments"),
        ("approve_experiments", "Experiments", "Approve changes"),
        ("preview_experiments", "Experiments", "Preview and test experiments"),
        ("view_recordings", "Recordings", "View all recordings and heatmaps"),
        ("view_shared_recordings", "Recordings", "Limited: shared recordings only"),
        ("add_highlights", "Recordings", "Create highlights from recordings and heatmaps"),
        ("manage_recordings", "Recordings", "Add and edit recordings and heatmaps"),
        ("delete_recordings", "Recordings", "Delete recordings and heatmaps"),
        ("add_test_recordings", "Recordings", "Create test recordings"),
        ("manage_surveys", "Feedback", "Create and edit surveys and feedback widgets"),
        ("delete_surveys", "Feedback", "Delete surveys and feedback widgets"),
        ("manage_funnels", "Analysis", "Add and edit funnels"),
        ("manage_segments", "Analysis", "Add and edit shared segments"),
        ("view_performance", "Performance", "All performance data"),
        ("view_basic_performance", "Performance", "Limited: basic metrics"),
        ("configure_alerts", "Performance", "Configure alerts"),
        ("modify_thresholds", "Performance", "Modify thresholds"),
        ("tag_comments", "Comments", "Tag comments (may be added to any site grant)"),
    ],
)

EXPERIENCE_CAPABILITIES = _caps(
    EXPERIENCE,
    [
        ("view_experience", "Experience", "Open the experience"),
        ("change_experience", "Experience", "Edit the experience"),
        ("publish_experience", "Experience", "Publish and unpublish the experience"),
        ("delete_experience", "Experience", "Delete the experience"),
        ("manage_collaborators", "Experience", "Add and remove collaborators"),
        ("view_experience_analytics", "Experience", "The experience's analytics"),
    ],
)

CAPABILITIES = {cap.codename: cap for cap in WORKSPACE_CAPABILITIES + SITE_CAPABILITIES + EXPERIENCE_CAPABILITIES}
BY_SCOPE = {WORKSPACE: WORKSPACE_CAPABILITIES, SITE: SITE_CAPABILITIES, EXPERIENCE: EXPERIENCE_CAPABILITIES}


def codenames(scope: str) -> list[str]:
    return [cap.codename for cap in BY_SCOPE[scope]]


def meta_permissions(scope: str) -> list[tuple[str, str]]:
    """``Meta.permissions`` for the model that stores ``scope``'s capabilities."""
    return [(cap.codename, cap.description) for cap in BY_SCOPE[scope]]


def areas(scope: str) -> list[tuple[str, list[Capability]]]:
    """Capabilities of a scope grouped by area, in catalog order (for matrix pages)."""
    grouped: dict[str, list[Capability]] = {}
    for cap in BY_SCOPE[scope]:
        grouped.setdefault(cap.area, []).append(cap)
    return list(grouped.items())


# A "full" view capability implies its "limited" sibling; role editing keeps this true.
IMPLIES = {
    "view_dashboards": "view_shared_dashboards",
    "view_experiments": "view_shared_experiments",
    "view_recordings": "view_shared_recordings",
    "view_performance": "view_basic_performance",
}


def with_implied(codes: set[str] | frozenset[str]) -> frozenset[str]:
    return frozenset(codes) | {IMPLIES[c] for c in codes if c in IMPLIES}


# What a collaborator holds on an experience they collaborate on (docs/RULES.md 2.3).
COLLABORATOR_CAPABILITIES = frozenset(
    {"view_experience", "change_experience", "publish_experience", "manage_collaborators", "view_experience_analytics"}
)
# Workspace capabilities that reach every experience of the workspace.
EXPERIENCE_CAPABILITIES_FROM_WORKSPACE = {
    "change_all_experiences": frozenset(codenames(EXPERIENCE)),
    "view_all_analytics": frozenset({"view_experience", "view_experience_analytics"}),
}


def experience_capabilities_from(workspace_codes: set[str] | frozenset[str]) -> frozenset[str]:
    found: set[str] = set()
    for code, experience_codes in EXPERIENCE_CAPABILITIES_FROM_WORKSPACE.items():
        if code in workspace_codes:
            found |= experience_codes
    return frozenset(found)


# Never part of a custom role (docs/RULES.md 2.2).
OWNER_ONLY = frozenset({"manage_owners"})

SITE_VIEW_CAPABILITIES = with_implied(
    {"view_site", "view_dashboards", "view_experiments", "view_recordings", "view_performance"}
)


@dataclass(frozen=True)
class BuiltinRole:
    key: str
    name: str
    scope: str
    description: str
    capabilities: frozenset[str]
    site_capabilities: frozenset[str] = frozenset()


def _only(scope: str, codes: set[str]) -> frozenset[str]:
    unknown = codes - set(codenames(scope))
    assert not unknown, f"unknown {scope} capabilities: {unknown}"
    return with_implied(codes)


_ALL_WORKSPACE = set(codenames(WORKSPACE))
_ALL_SITE = set(codenames(SITE))

OWNER = "owner"
ADMIN = "admin"
BILLING_ADMIN = "billing_admin"
MEMBER = "member"
VIEWER = "viewer"

BUILTIN_WORKSPACE_ROLES = (
    BuiltinRole(
        OWNER,
        "Owner",
        WORKSPACE,
        "Everything. Only owners make or unmake owners.",
        _only(WORKSPACE, _ALL_WORKSPACE),
        _only(SITE, _ALL_SITE),
    ),
    BuiltinRole(
        ADMIN,
        "Admin",
        WORKSPACE,
        "Runs the workspace: people, sites, settings, all experiences. Not billing, SSO, owners or deletion.",
        _only(WORKSPACE, _ALL_WORKSPACE - {"delete_workspace", "manage_billing", "manage_owners", "manage_sso"}),
        _only(SITE, _ALL_SITE),
    ),
    BuiltinRole(
        BILLING_ADMIN,
        "Billing admin",
        WORKSPACE,
        "Billing only; needs no site, team or experience.",
        _only(WORKSPACE, {"view_workspace", "view_workspace_settings", "manage_billing"}),
    ),
    BuiltinRole(
        MEMBER,
        "Member",
        WORKSPACE,
        "Creates experiences and edits those they collaborate on; sees the analytics of every experience; "
        "site access through grants and teams.",
        _only(
            WORKSPACE,
            {
                "view_workspace",
                "view_members",
                # Seed 003: a member can do everything an analytics user (the Viewer) can do.
                "view_all_analytics",
                "add_experience",
                "manage_viewer_groups",
                "manage_scheduled_reports",
                "request_data_export",
                "request_data_deletion",
            },
        ),
    ),
    BuiltinRole(
        VIEWER,
        "Viewer",
        WORKSPACE,
        "Read-only: aggregated analytics and the view capabilities on every site.",
        _only(WORKSPACE, {"view_workspace", "view_members", "view_all_analytics"}),
        SITE_VIEW_CAPABILITIES,
    ),
)

SITE_ADMIN = "site_admin"
EDITOR = "editor"
SITE_VIEWER = "site_viewer"

BUILTIN_SITE_ROLES = (
    BuiltinRole(
        SITE_ADMIN,
        "Site admin",
        SITE,
        "Edit the site and every analysis tool on it.",
        _only(SITE, _ALL_SITE - {"delete_site", "reset_site"}),
    ),
    BuiltinRole(
        EDITOR,
        "Editor",
        SITE,
        "Create and edit analyses, recordings, surveys, dashboards and experiments.",
        _only(
            SITE,
            SITE_VIEW_CAPABILITIES
            | {
                "add_dashboards",
                "change_dashboards",
                "delete_dashboards",
                "export_data",
                "add_experiments",
                "change_experiments",
                "run_experiments",
                "preview_experiments",
                "add_highlights",
                "manage_recordings",
                "delete_recordings",
                "add_test_recordings",
                "manage_surveys",
                "delete_surveys",
            },
        ),
    ),
    BuiltinRole(
        SITE_VIEWER, "Site viewer", SITE, "View only.", _only(SITE, SITE_VIEW_CAPABILITIES | {"add_highlights"})
    ),
)

BUILTIN_ROLES = BUILTIN_WORKSPACE_ROLES + BUILTIN_SITE_ROLES
# Workspace roles that may collaborate on experiences (docs/RULES.md 4.6).
COLLABORATOR_ROLES = frozenset({OWNER, ADMIN, MEMBER})
