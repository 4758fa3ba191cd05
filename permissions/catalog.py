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
    """``label`` is what pages call the capability, written for people ("Manage single sign-on
    (SSO)"), never derived from the codename; ``description`` says what it allows."""

    codename: str
    scope: str
    area: str
    label: str
    description: str


def _caps(scope: str, rows: list[tuple[str, str, str, str]]) -> tuple[Capability, ...]:
    """Rows are (codename, area, label, description)."""
    return tuple(Capability(codename, scope, area, label, description) for codename, area, label, description in rows)


WORKSPACE_CAPABILITIES = _caps(
    WORKSPACE,
    [
        (
            "view_workspace",
            "Workspace",
            "Open the workspace",
            "Open the workspace; list the sites and experiences one may see",
        ),
        ("view_workspace_settings", "Workspace", "See the settings", "See the settings pages"),
        ("change_workspace", "Workspace", "Change the workspace details", "Change the name, time zone and details"),
        ("delete_workspace", "Workspace", "Delete the workspace", "Delete the workspace"),
        ("view_usage", "Workspace", "See usage", "See usage statistics"),
        (
            "manage_billing",
            "Billing",
            "Manage the plan, billing and invoices",
            "Plan changes, billing details and e-mails, downgrade or cancellation requests, invoices",
        ),
        ("view_members", "People", "See the members", "See the member list, pending invites and who is in which team"),
        ("invite_members", "People", "Invite people", "Invite one or many people; resend and revoke invites"),
        (
            "change_member_roles",
            "People",
            "Change members' roles",
            "Change a member's workspace role (never to or from Owner)",
        ),
        ("remove_members", "People", "Remove people from the workspace", "Remove a member (never an owner)"),
        ("manage_owners", "People", "Make and unmake owners", "Make and unmake owners, transfer ownership"),
        ("export_members", "People", "Export the member list", "Download the member list (CSV)"),
        ("view_member_activity", "People", "See the activity log", "See the audit log"),
        ("manage_roles", "People", "Manage custom roles", "Custom roles and presets"),
        ("manage_teams", "People", "Create and run teams", "Teams, their members and their site grants"),
        ("add_site", "Sites", "Create sites", "Create sites"),
        (
            "manage_site_access",
            "Sites",
            "Give and take access to sites",
            "Grant and revoke site roles on every site; set site owners",
        ),
        ("add_experience", "Experiences", "Create experiences", "Create experiences"),
        (
            "change_all_experiences",
            "Experiences",
            "Work on every experience",
            "Every experience capability on every experience",
        ),
        ("manage_viewer_groups", "Experiences", "Create and edit viewer groups", "Create and edit viewer groups"),
        ("view_all_analytics", "Analytics", "See all analytics", "Aggregated analytics of all sites and experiences"),
        ("manage_sso", "Security", "Manage single sign-on (SSO)", "Single sign-on settings"),
        ("manage_two_factor_policy", "Security", "Set the two-factor policy", "Require two-factor authentication"),
        ("manage_auto_join", "Security", "Manage join domains", "Join domains and auto-join"),
        ("manage_ip_blocking", "Settings", "Manage IP blocking", "IP addresses excluded from tracking"),
        ("manage_integrations", "Settings", "Turn integrations on or off", "Enable and disable integrations"),
        ("manage_user_attributes", "Settings", "Turn user attributes on or off", "Enable and disable user attributes"),
        ("manage_policies", "Settings", "Manage data-collection policies", "Data-collection policies"),
        (
            "manage_webhooks",
            "Settings",
            "Send changes to webhook endpoints",
            "Webhook endpoints: add, change, remove, rotate secrets, redeliver",
        ),
        ("view_access_keys", "Settings", "Manage API access keys", "API access keys"),
        (
            "manage_alert_subscriptions",
            "Settings",
            "Subscribe to alerts and insights",
            "Custom alerts and automatic insights subscriptions",
        ),
        (
            "manage_lexicon",
            "Data",
            "Curate the event lexicon",
            "Drop, merge and hide events and properties; descriptions; tags",
        ),
        ("manage_scheduled_reports", "Data", "Schedule automatic reports", "Automatic reports"),
        (
            "request_data_export",
            "Data & privacy",
            "Request a person's data export",
            "Request an export of a tracked person's data",
        ),
        (
            "request_data_deletion",
            "Data & privacy",
            "Request a person's data deletion",
            "Request deletion of a tracked person's data",
        ),
    ],
)

SITE_CAPABILITIES = _caps(
    SITE,
    [
        ("view_site", "Site", "Open the site", "See the site, its data and reports"),
        ("change_site", "Site", "Change the site's settings", "Site settings, name, time zone"),
        ("delete_site", "Site", "Delete the site", "Delete the site"),
        ("reset_site", "Site", "Reset the site's data", "Reset the site's data"),
        (
            "manage_session_capture",
            "Site",
            "Turn session capture on or off",
            "Enable and disable capture for heatmaps and recordings",
        ),
        ("view_dashboards", "Dashboards", "See all dashboards", "View all dashboards and reports"),
        (
            "view_shared_dashboards",
            "Dashboards",
            "See shared dashboards only",
            "Limited: shared or predefined dashboards only",
        ),
        ("add_dashboards", "Dashboards", "Create dashboards", "Create dashboards and reports"),
        ("change_dashboards", "Dashboards", "Edit dashboards", "Edit and save dashboards, add trends"),
        ("delete_dashboards", "Dashboards", "Delete dashboards and reports", "Delete dashboards"),
        ("export_data", "Dashboards", "Share and export data", "Share or export data"),
        ("view_experiments", "Experiments", "See all experiments", "View all experiments and results"),
        (
            "view_shared_experiments",
            "Experiments",
            "See selected experiments only",
            "Limited: selected experiments only",
        ),
        ("add_experiments", "Experiments", "Create experiments", "Create experiments"),
        ("change_experiments", "Experiments", "Edit experiments", "Edit experiments"),
        ("run_experiments", "Experiments", "Start and stop experiments", "Start and stop experiments"),
        ("delete_experiments", "Experiments", "Delete any experiment", "Delete experiments"),
        ("approve_experiments", "Experiments", "Approve experiment changes", "Approve changes"),
        ("preview_experiments", "Experiments", "Preview and test experiments", "Preview and test experiments"),
        ("view_recordings", "Recordings", "See all recordings and heatmaps", "View all recordings and heatmaps"),
        ("view_shared_recordings", "Recordings", "See shared recordings only", "Limited: shared recordings only"),
        ("add_highlights", "Recordings", "Create highlights", "Create highlights from recordings and heatmaps"),
        ("manage_recordings", "Recordings", "Add and edit recordings", "Add and edit recordings and heatmaps"),
        ("delete_recordings", "Recordings", "Delete recordings and heatmaps", "Delete recordings and heatmaps"),
        ("add_test_recordings", "Recordings", "Create test recordings", "Create test recordings"),
        ("manage_surveys", "Feedback", "Create and edit surveys", "Create and edit surveys and feedback widgets"),
        ("delete_surveys", "Feedback", "Delete surveys and widgets", "Delete surveys and feedback widgets"),
        ("manage_funnels", "Analysis", "Add and edit funnels", "Add and edit funnels"),
        ("manage_segments", "Analysis", "Add and edit shared segments", "Add and edit shared segments"),
        ("view_performance", "Performance", "See all performance data", "All performance data"),
        ("view_basic_performance", "Performance", "See basic performance only", "Limited: basic metrics"),
        ("configure_alerts", "Performance", "Configure performance alerts", "Configure alerts"),
        ("modify_thresholds", "Performance", "Change performance thresholds", "Modify thresholds"),
        ("tag_comments", "Comments", "Add tags to comments", "Tag comments (may be added to any site grant)"),
    ],
)

EXPERIENCE_CAPABILITIES = _caps(
    EXPERIENCE,
    [
        ("view_experience", "Experience", "Open the experience", "Open the experience"),
        ("change_experience", "Experience", "Edit the experience", "Edit the experience"),
        ("publish_experience", "Experience", "Publish the experience", "Publish and unpublish the experience"),
        ("delete_experience", "Experience", "Delete the experience", "Delete the experience"),
        ("manage_collaborators", "Experience", "Add and remove collaborators", "Add and remove collaborators"),
        ("view_experience_analytics", "Experience", "See the experience's analytics", "The experience's analytics"),
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
