"""The capabilities reference (docs/CAPABILITIES.md), generated from the catalog.

``manage.py capabilities_reference`` writes it; a test fails when the file in the repository
differs from what the catalog generates, so the reference never drifts from the code.
"""

from __future__ import annotations

from . import catalog

HEADER = """# Capabilities

Generated from `permissions/catalog.py` by `manage.py capabilities_reference`; do not edit by hand
(a test fails when this file and the catalog disagree). The codenames are a public contract: the
check API (`/api/v1/check`, `/api/v1/members/<email>/permissions`) takes and returns exactly these,
and they are never renamed.

Each capability has a scope. A **workspace** capability is asked with no `site` or `experience`; a
**site** capability with `site=<slug>`; an **experience** capability with `experience=<id>`.
Asking a codename with the wrong scope is answered `400`.

Who holds what: a person's workspace capabilities are their workspace role's. On a site they hold
their workspace role's site capabilities (which apply to every site), plus the role and extra
capabilities of their own site grant and of every team of theirs with a grant there. On an
experience they hold what their workspace role gives on every experience, plus, as a collaborator,
the collaborator capabilities. A full view capability implies its limited sibling
({implies}). A custom role never holds {owner_only}.
"""

SCOPE_TITLES = {
    catalog.WORKSPACE: "Workspace capabilities",
    catalog.SITE: "Site capabilities",
    catalog.EXPERIENCE: "Experience capabilities",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def holders(capability: catalog.Capability) -> list[str]:
    """The built-in roles (and the collaborator relation) that hold ``capability``, in catalog order."""
    code, found = capability.codename, []
    for role in catalog.BUILTIN_WORKSPACE_ROLES:
        if capability.scope == catalog.WORKSPACE and code in role.capabilities:
            found.append(role.name)
        elif capability.scope == catalog.SITE and code in role.site_capabilities:
            found.append(f"{role.name} (every site)")
        elif capability.scope == catalog.EXPERIENCE and code in catalog.experience_capabilities_from(role.capabilities):
            found.append(f"{role.name} (every experience)")
    if capability.scope == catalog.SITE:
        found += [f"{role.name} (site role)" for role in catalog.BUILTIN_SITE_ROLES if code in role.capabilities]
    if capability.scope == catalog.EXPERIENCE and code in catalog.COLLABORATOR_CAPABILITIES:
        found.append("Collaborator (that experience)")
    return found


def capabilities_markdown() -> str:
    implies = ", ".join(f"`{full}` ⇒ `{limited}`" for full, limited in catalog.IMPLIES.items())
    owner_only = ", ".join(f"`{code}`" for code in sorted(catalog.OWNER_ONLY))
    lines = [HEADER.format(implies=implies, owner_only=owner_only).rstrip("\n")]
    for scope in catalog.SCOPES:
        lines += [
            "",
            f"## {SCOPE_TITLES[scope]}",
            "",
            "| codename | area | label | description | built-in roles holding it |",
            "| --- | --- | --- | --- | --- |",
        ]
        for cap in catalog.BY_SCOPE[scope]:
            held = ", ".join(holders(cap)) or "none (custom roles and grants only)"
            lines.append(
                f"| `{cap.codename}` | {_cell(cap.area)} | {_cell(cap.label)} | {_cell(cap.description)} | {held} |"
            )
    lines += ["", "## Built-in roles", "", "| role | kind | in short |", "| --- | --- | --- |"]
    for role in catalog.BUILTIN_WORKSPACE_ROLES:
        lines.append(f"| {role.name} | workspace role | {_cell(role.description)} |")
    for role in catalog.BUILTIN_SITE_ROLES:
        lines.append(f"| {role.name} | site role | {_cell(role.description)} |")
    return "\n".join(lines) + "\n"
