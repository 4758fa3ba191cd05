"""Role presets: one named set of custom roles per seed (docs/RULES.md 2.2 and 3).

A preset reproduces one seed's role system with the capability catalog. The data are checked when
this module is imported (every codename exists and belongs to the right scope, full views carry
their limited siblings, no role holds an owner-only capability), so a wrong preset fails at start,
not in a customer's workspace. Loading goes through ``permissions.services.role_save``, which
enforces rule 3 and writes the audit log; a role that already matches is left alone, so loading a
preset twice changes nothing.

Role keys start with the seed's number (``s000-admin``): two presets can live in one workspace,
and no custom key reads like a built-in one (``admin``) on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kernel.errors import RuleViolation

from . import catalog
from .models import Role
from .services import role_save


@dataclass(frozen=True)
class RoleSpec:
    """One custom role of a preset. ``site_capabilities`` (workspace roles only) apply on every site."""

    key: str
    name: str
    scope: str
    description: str
    capabilities: frozenset[str]
    site_capabilities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Preset:
    name: str
    seed: str
    title: str
    description: str
    roles: tuple[RoleSpec, ...]


def _workspace_role(key, name, description, capabilities, site_capabilities=frozenset()) -> RoleSpec:
    return RoleSpec(
        key,
        name,
        catalog.WORKSPACE,
        description,
        catalog.with_implied(set(capabilities)),
        catalog.with_implied(set(site_capabilities)),
    )


def _site_role(key, name, description, capabilities) -> RoleSpec:
    return RoleSpec(key, name, catalog.SITE, description, catalog.with_implied(set(capabilities)))


ALL_WORKSPACE = frozenset(catalog.codenames(catalog.WORKSPACE))
ALL_SITE = frozenset(catalog.codenames(catalog.SITE))
# Opening the workspace; every custom workspace role needs it.
ACCESS = {"view_workspace"}
# Opening a site: every role that works on sites holds it, or the site would not even be listed.
SITE_ACCESS = {"view_site"}


def _builtin(key: str) -> catalog.BuiltinRole:
    return next(role for role in catalog.BUILTIN_WORKSPACE_ROLES if role.key == key)


# --- 000: product-area roles -------------------------------------------------------------------
# docs/RULES.md 3 (000): the prose of each role is exhaustive; the matrix only says that ○ means the
# limited (shared) view capabilities.

SEED_000 = Preset(
    name="seed-000-product-areas",
    seed="000",
    title="Product-area roles: Admin, Editor, Project Manager, Member, Tester",
    description=(
        "Five workspace roles defined by what they may do in each product area (analytics, "
        "experiments, session recording, performance), applied on every site."
    ),
    roles=(
        _workspace_role(
            "s000-admin",
            "Admin",
            "Full access to all features and settings, billing included; cannot make owners or delete the workspace.",
            ALL_WORKSPACE - {"manage_owners", "delete_workspace"},
            ALL_SITE,
        ),
        _workspace_role(
            "s000-editor",
            "Editor",
            "Creates content, analytics and experiments without administrative access: views and creates "
            "dashboards; views, creates, edits, starts and stops experiments; views recordings and creates "
            "highlights; views performance data.",
            ACCESS,
            SITE_ACCESS
            | {
                "view_dashboards",
                "add_dashboards",
                "view_experiments",
                "add_experiments",
                "change_experiments",
                "run_experiments",
                "view_recordings",
                "add_highlights",
                "view_performance",
            },
        ),
        _workspace_role(
            "s000-project-manager",
            "Project Manager",
            "Oversees projects and analyses results without modifying settings: views and creates dashboards, "
            "views experiments and approves changes, views recordings and performance data.",
            ACCESS,
            SITE_ACCESS
            | {
                "view_dashboards",
                "add_dashboards",
                "view_experiments",
                "approve_experiments",
                "view_recordings",
                "view_performance",
            },
        ),
        _workspace_role(
            "s000-member",
            "Member",
            "Basic access: shared dashboards, selected experiments, shared recordings, basic performance metrics.",
            ACCESS,
            SITE_ACCESS
            | {"view_shared_dashboards", "view_shared_experiments", "view_shared_recordings", "view_basic_performance"},
        ),
        _workspace_role(
            "s000-tester",
            "Tester",
            "For QA and testing: shared dashboards, previews and tests experiments, creates test recordings, "
            "basic performance metrics.",
            ACCESS,
            SITE_ACCESS
            | {"view_shared_dashboards", "preview_experiments", "add_test_recordings", "view_basic_performance"},
        ),
    ),
)

# --- 001: account and data-source roles --------------------------------------------------------
# "People" is the catalog's People area (owners excepted) plus the members' site roles, which
# the seed counts among the permissions an account admin edits.
PEOPLE = {cap.codename for cap in catalog.WORKSPACE_CAPABILITIES if cap.area == "People"} - catalog.OWNER_ONLY

SEED_001 = Preset(
    name="seed-001-account-data-source",
    seed="001",
    title="Account roles and data-source (site) roles",
    description=(
        "Account admin, Account user and Account viewer for the workspace; Advanced user, Standard user and "
        "Viewer granted per site. Only the Owner adds sites. Tag comments can be added to any site grant "
        "as an extra capability, and every site has its owner (contract owner and contact person)."
    ),
    roles=(
        _workspace_role(
            "s001-account-admin",
            "Account admin",
            "Adds and edits policies and users (and their site roles), adds and edits automatic reports.",
            ACCESS
            | PEOPLE
            | {"manage_site_access", "view_workspace_settings", "manage_policies", "manage_scheduled_reports"},
        ),
        _workspace_role(
            "s001-account-user",
            "Account user",
            "Adds and edits automatic reports.",
            ACCESS | {"manage_scheduled_reports"},
        ),
        _workspace_role("s001-account-viewer", "Account viewer", "Accesses the account.", ACCESS),
        _site_role(
            "s001-advanced-user",
            "Advanced user",
            "Edits the site; adds and edits analytics including heatmaps and session recordings, surveys, "
            "funnels and shared segments; tags comments.",
            catalog.SITE_VIEW_CAPABILITIES
            | {
                "change_site",
                "add_dashboards",
                "change_dashboards",
                "manage_recordings",
                "manage_surveys",
                "manage_funnels",
                "manage_segments",
                "tag_comments",
            },
        ),
        _site_role(
            "s001-standard-user",
            "Standard user",
            "Views the data; adds and edits heatmaps and session recordings.",
            catalog.SITE_VIEW_CAPABILITIES | {"manage_recordings"},
        ),
        _site_role("s001-viewer", "Viewer", "Can only view the data.", catalog.SITE_VIEW_CAPABILITIES),
    ),
)

# --- 002: organization roles -------------------------------------------------------------------
_ADMIN = _builtin(catalog.ADMIN)

SEED_002 = Preset(
    name="seed-002-organization",
    seed="002",
    title="Organization roles: Admin, Billing Admin, Member",
    description=(
        "Organization-level roles; analysis (reports, cohorts, campaigns, dashboards) comes from the site "
        "roles people and teams are granted on each site."
    ),
    roles=(
        _workspace_role(
            "s002-admin",
            "Admin",
            "Administers projects, members, teams and settings, and also billing, single sign-on, "
            "deleting the organization and resetting projects.",
            _ADMIN.capabilities | {"manage_billing", "manage_sso", "delete_workspace"},
            _ADMIN.site_capabilities | {"reset_site"},
        ),
        _workspace_role(
            "s002-billing-admin",
            "Billing Admin",
            "Sees the settings overview and manages billing only; needs no team or site.",
            ACCESS | {"view_workspace_settings", "manage_billing"},
        ),
        _workspace_role(
            "s002-member",
            "Member",
            "No administration; requests data exports and deletions; analyses the sites granted to them or "
            "their teams.",
            ACCESS | {"request_data_export", "request_data_deletion"},
        ),
    ),
)

# --- 003: workspace roles for experiences ------------------------------------------------------
# docs/RULES.md 3 (003): the built-in Admin, Member and Viewer already are this system; only renamed.


def _renamed(key: str, name: str, builtin_key: str, description: str) -> RoleSpec:
    builtin = _builtin(builtin_key)
    return RoleSpec(key, name, catalog.WORKSPACE, description, builtin.capabilities, builtin.site_capabilities)


SEED_003 = Preset(
    name="seed-003-workspace-experiences",
    seed="003",
    title="Workspace roles for experiences: Admin, Member, Analytics",
    description=(
        "The built-in Admin, Member and Viewer under the seed's names. People who join by auto-join become "
        "Member (the join-domain default role; a later change)."
    ),
    roles=(
        _renamed(
            "s003-admin",
            "Admin",
            catalog.ADMIN,
            "Everything a member can do, plus the settings pages and every experience with its collaborators.",
        ),
        _renamed(
            "s003-member",
            "Member",
            catalog.MEMBER,
            "Creates experiences and edits, publishes and sees the analytics of those they collaborate on; "
            "manages viewer groups.",
        ),
        _renamed(
            "s003-analytics",
            "Analytics",
            catalog.VIEWER,
            "Aggregated analytics of all experiences and sites, and the analytics of each one.",
        ),
    ),
)

# --- 004: Read Only, Read & Write, Admin per organization --------------------------------------
# One line per row of the seed's table; the Account Owner column is the built-in Owner.
_READ_ONLY_SITE = catalog.SITE_VIEW_CAPABILITIES | {"add_highlights"}  # view data; create highlights
_READ_WRITE_SITE = _READ_ONLY_SITE | {
    "manage_surveys",  # create surveys and feedback widgets
    "manage_recordings",  # edit/alter analysis and feedback tools
    "manage_funnels",
    "export_data",  # share or export data
    "delete_recordings",  # delete recordings, heatmaps and feedback widgets
    "delete_surveys",
    "change_dashboards",  # edit/save the dashboard, add trends to it
}
_ADMIN_SITE = _READ_WRITE_SITE | {
    "manage_session_capture",  # enable session capture for heatmaps and recordings
    "change_site",  # add/edit/delete sites
    "delete_site",
}
# "All team members can view their team permissions level ... visiting your Team List".
_TEAM_LIST = {"view_members"}

SEED_004 = Preset(
    name="seed-004-organization-access",
    seed="004",
    title="Organization access levels: Read Only, Read & Write, Admin",
    description=("Access levels that apply to every site of the workspace; the Account Owner is the built-in Owner."),
    roles=(
        _workspace_role(
            "s004-read-only",
            "Read Only",
            "Views data and reports on every site and creates highlights from recordings and heatmaps.",
            ACCESS | _TEAM_LIST,
            _READ_ONLY_SITE,
        ),
        _workspace_role(
            "s004-read-write",
            "Read & Write",
            "Read Only, plus surveys and feedback widgets, analysis tools, sharing and exporting, deleting "
            "recordings, heatmaps and widgets, and editing the dashboard, on every site.",
            ACCESS | _TEAM_LIST,
            _READ_WRITE_SITE,
        ),
        _workspace_role(
            "s004-admin",
            "Admin",
            "Read & Write, plus session capture, sites, team member permissions, IP blocking, user attributes "
            "and integrations. Not the organization itself, account settings, SSO or billing.",
            ACCESS
            | _TEAM_LIST
            | {
                "add_site",
                "invite_members",
                "change_member_roles",
                "remove_members",
                "manage_site_access",
                "view_workspace_settings",
                "manage_ip_blocking",
                "manage_user_attributes",
                "manage_integrations",
            },
            _ADMIN_SITE,
        ),
    ),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (SEED_000, SEED_001, SEED_002, SEED_003, SEED_004)}


# --- validation at import ----------------------------------------------------------------------


def preset_problems(preset: Preset) -> list[str]:
    problems = []
    keys = [(spec.scope, spec.key) for spec in preset.roles]
    if len(keys) != len(set(keys)):
        problems.append("two roles share a key")
    for spec in preset.roles:
        where = f"{preset.name} {spec.key}"
        checks = [(spec.scope, spec.capabilities), (catalog.SITE, spec.site_capabilities)]
        for scope, codes in checks:
            for code in sorted(codes):
                capability = catalog.CAPABILITIES.get(code)
                if capability is None or capability.scope != scope:
                    problems.append(f"{where}: {code!r} is not a {scope} capability")
            if catalog.with_implied(codes) != codes:
                problems.append(f"{where}: a full view capability lacks its limited sibling")
        if spec.capabilities & catalog.OWNER_ONLY:
            problems.append(f"{where}: custom roles never hold {sorted(catalog.OWNER_ONLY)}")
        if spec.scope == catalog.SITE and spec.site_capabilities:
            problems.append(f"{where}: a site role has no site capabilities on every site")
        if spec.scope == catalog.WORKSPACE and "view_workspace" not in spec.capabilities:
            problems.append(f"{where}: a workspace role must open the workspace")
    return problems


def _validate(presets: dict[str, Preset]) -> None:
    problems = [problem for preset in presets.values() for problem in preset_problems(preset)]
    if problems:
        raise ValueError("Invalid role presets: " + "; ".join(problems))


_validate(PRESETS)


# --- loading -----------------------------------------------------------------------------------


def get_preset(name: str) -> Preset:
    """The preset called ``name``; RuleViolation naming the presets there are otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise RuleViolation(f"No preset “{name}”. Presets: {', '.join(PRESETS)}.") from None


CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


def preset_plan(*, workspace, name: str) -> list[tuple[RoleSpec, str]]:
    """What loading the preset would do to each of its roles: create, update, or leave unchanged."""
    preset = get_preset(name)
    existing = {
        (role.scope, role.key): role
        for role in Role.objects.filter(
            workspace=workspace, key__in=[spec.key for spec in preset.roles]
        ).prefetch_related("permissions", "site_permissions")
    }
    plan = []
    for spec in preset.roles:
        role = existing.get((spec.scope, spec.key))
        plan.append((spec, CREATE if role is None else UNCHANGED if _matches(role, spec, preset) else UPDATE))
    return plan


def _matches(role, spec: RoleSpec, preset: Preset) -> bool:
    caps = {p.codename for p in role.permissions.all()}
    site_caps = {p.codename for p in role.site_permissions.all()}
    return (role.name, role.description, role.preset, caps, site_caps) == (
        spec.name,
        spec.description,
        preset.name,
        spec.capabilities,
        spec.site_capabilities,
    )


@transaction.atomic
def load_preset(*, actor, workspace, name: str) -> list[Role]:
    """Create or update the preset's roles in ``workspace``; all or nothing.

    ``role_save`` checks ``manage_roles`` and rule 3 for each role, so an actor who lacks one of a
    role's capabilities is refused and the transaction writes nothing.
    """
    preset = get_preset(name)
    return [
        role_save(
            actor=actor,
            workspace=workspace,
            scope=spec.scope,
            key=spec.key,
            name=spec.name,
            description=spec.description,
            capabilities=spec.capabilities,
            site_capabilities=spec.site_capabilities,
            preset=preset.name,
        )
        for spec in preset.roles
    ]


def preset_title(name: str) -> str:
    """The short title of the preset called ``name`` ("Organization roles"), which tells its roles
    from another preset's of the same name; the stored name when no preset has it any more."""
    preset = PRESETS.get(name)
    return preset.title.partition(":")[0] if preset is not None else name
