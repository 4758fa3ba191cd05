"""The Django admin for staff (docs/RULES.md 5.3: support, corrections, object permissions).

Every save, delete and action calls the domain services, so rules 1-6 and the audit log hold here
as in the browser (rule 7). One module per area; importing them registers the admin classes.
"""

from workspaces.admin import experiences, invites, joining, members, sites, teams, workspaces  # noqa: F401
