"""The access version: every write that can change a check API answer changes its workspace's
``AccessVersion`` row in the same transaction, through triggers in the database itself.

Triggers rather than signals or calls in the services: they see every write, whatever made it
(a service, a ``bulk_create``, a ``QuerySet.update()`` or ``delete()``, a cascade, the admin, a
migration, SQL typed by an operator), and they run inside the writing transaction, so the new
version becomes visible exactly when the change does. ``TABLES`` is the whole list of what a check
answer reads (``checks.run_checks`` and ``policy.load_permissions``); a table added to those reads
must be added here (``tests/test_check_cache.py`` checks the triggers exist).

Each entry maps a written row (``{r}``, the new or the old row) to the workspaces whose answers it
can change, as a ``SELECT … AS ws``. PostgreSQL runs it once per statement over the statement's
transition tables; SQLite once per row. A change to this module needs a migration that drops the
triggers and makes them again.
"""

from __future__ import annotations

_BY_USER = "SELECT workspace_id AS ws FROM workspaces_membership WHERE user_id = {r}.%s"
_SITE = "SELECT workspace_id AS ws FROM workspaces_site WHERE id = {r}.content_object_id"
_EXPERIENCE = "SELECT workspace_id AS ws FROM workspaces_experience WHERE id = {r}.content_object_id"
_OWN = "SELECT {r}.workspace_id AS ws"

# table → (rows to workspaces, for updates only: the columns that matter, or None for every update)
TABLES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    # who is a member, with which role (the role's group membership is below)
    "workspaces_membership": (_OWN, None),
    # an account switched off or on, or its address changed (questions name people by address)
    "accounts_user": (_BY_USER % "id", ("is_active", "email")),
    # group membership: a role's group, a team's group
    "accounts_user_groups": (_BY_USER % "user_id", None),
    # sites and experiences asked about (made, deleted, renamed)
    "workspaces_site": (_OWN, ("id", "workspace_id", "slug")),
    "workspaces_experience": (_OWN, ("id", "workspace_id")),
    # the derived object permissions (roles, site grants, teams, collaborators, custom role edits)
    "permissions_workspaceuserpermission": ("SELECT {r}.content_object_id AS ws", None),
    "permissions_workspacegrouppermission": ("SELECT {r}.content_object_id AS ws", None),
    "permissions_siteuserpermission": (_SITE, None),
    "permissions_sitegrouppermission": (_SITE, None),
    "permissions_experienceuserpermission": (_EXPERIENCE, None),
    "permissions_experiencegrouppermission": (_EXPERIENCE, None),
    # two-factor: the workspace's requirement and a person's second factors (apps and passkeys)
    "twofactor_workspacesecurity": (_OWN, ("two_factor_required", "workspace_id")),
    "otp_totp_totpdevice": (_BY_USER % "user_id", ("confirmed", "user_id")),
    "django_otp_webauthn_webauthncredential": (_BY_USER % "user_id", ("confirmed", "user_id")),
    # members at a domain of a connection that trusts its identity provider's multi-factor sign-in
    # keep what they hold under the requirement (``policy.at_trusted_idp_domain``)
    "sso_connection": (_OWN, ("workspace_id", "enabled", "trust_idp_mfa")),
    "sso_connection_domains": ("SELECT workspace_id AS ws FROM sso_connection WHERE id = {r}.connection_id", None),
    "workspaces_joindomain": (
        _OWN,
        ("workspace_id", "domain", "include_subdomains", "verified_at", "suspended_at"),
    ),
}
# The tables 0007 added (the SSO connections trusting their provider's multi-factor sign-in).
TABLES_ADDED_0007 = ("sso_connection", "sso_connection_domains", "workspaces_joindomain")
# The tables of permissions.0006 (0005's and the passkeys'), and of 0005, which made the first triggers.
TABLES_0006 = tuple(table for table in TABLES if table not in TABLES_ADDED_0007)
TABLES_0005 = tuple(table for table in TABLES_0006 if table != "django_otp_webauthn_webauthncredential")


def _changed(columns, dialect: str) -> str:
    op = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return " OR ".join(f"OLD.{column} {op} NEW.{column}" for column in columns)


def _workspaces(select: str, row: str) -> str:
    return f"SELECT DISTINCT ws FROM ({select.format(r=row)}) AS changed WHERE ws IS NOT NULL"


POSTGRES_BUMP = """
CREATE OR REPLACE FUNCTION permissions_bump_access_version(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO permissions_accessversion (workspace_id, version)
    SELECT id, (random() * 4e18)::bigint FROM unnest(ids) AS id ORDER BY id
    ON CONFLICT (workspace_id) DO UPDATE SET version = permissions_accessversion.version + 1;
$$;
"""


def _pg_rows(select: str, rows: str) -> str:
    return f"SELECT x.ws FROM {rows} r CROSS JOIN LATERAL ({select.format(r='r')}) AS x WHERE x.ws IS NOT NULL"


def _pg_updated(select: str, columns) -> str:
    """The workspaces of an update's rows, before and after, when a column that matters changed."""
    changed = _changed(columns, "postgresql").replace("OLD.", "o.").replace("NEW.", "r.") if columns else "true"
    rows = "FROM new_rows r JOIN old_rows o ON o.id = r.id"
    return " UNION ".join(
        f"SELECT x.ws {rows} CROSS JOIN LATERAL ({select.format(r=side)}) AS x WHERE x.ws IS NOT NULL AND ({changed})"
        for side in ("r", "o")
    )


def postgres_sql(tables) -> tuple[list[str], list[str]]:
    """Statement triggers with transition tables: one upsert per statement, however many rows it
    wrote (row triggers updating one version row 136,000 times in a transaction took 140 s)."""
    forward, backward = [POSTGRES_BUMP], []
    for table in tables:
        select, columns = TABLES[table]
        name = f"permissions_av_{table}"
        bodies = {
            "i": ("INSERT", "NEW TABLE AS new_rows", _pg_rows(select, "new_rows")),
            "d": ("DELETE", "OLD TABLE AS old_rows", _pg_rows(select, "old_rows")),
            "u": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", _pg_updated(select, columns)),
        }
        for suffix, (event, referencing, workspaces) in bodies.items():
            function = f"{name}_{suffix}"
            forward.append(f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM permissions_bump_access_version(ARRAY(SELECT DISTINCT ws FROM ({workspaces}) AS changed));
    RETURN NULL;
END $$;
""")
            forward.append(
                f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
            )
            backward += [f"DROP TRIGGER IF EXISTS {function} ON {table};", f"DROP FUNCTION IF EXISTS {function}();"]
    backward.append("DROP FUNCTION IF EXISTS permissions_bump_access_version(bigint[]);")
    return forward, backward


def _sqlite_bump(select: str, row: str) -> str:
    # The WHERE makes the upsert parse (SQLite's INSERT … SELECT … ON CONFLICT needs one).
    return (
        "INSERT INTO permissions_accessversion (workspace_id, version) "
        f"SELECT ws, abs(random() / 4) FROM ({_workspaces(select, row)}) WHERE true "
        "ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1;"
    )


def sqlite_sql(tables) -> tuple[list[str], list[str]]:
    forward, backward = [], []
    for table in tables:
        select, columns = TABLES[table]
        name = f"permissions_av_{table}"
        forward.append(f"CREATE TRIGGER {name}_i AFTER INSERT ON {table} BEGIN {_sqlite_bump(select, 'NEW')} END;")
        forward.append(f"CREATE TRIGGER {name}_d AFTER DELETE ON {table} BEGIN {_sqlite_bump(select, 'OLD')} END;")
        when = f" WHEN {_changed(columns, 'sqlite')}" if columns else ""
        forward.append(
            f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table}{when} BEGIN "
            f"{_sqlite_bump(select, 'NEW')} {_sqlite_bump(select, 'OLD')} END;"
        )
        backward += [f"DROP TRIGGER IF EXISTS {name}_{event};" for event in "idu"]
    return forward, backward


def trigger_sql(vendor: str, tables=None) -> tuple[list[str], list[str]]:
    """(statements making the triggers of ``tables``, statements dropping them); every table of
    ``TABLES`` by default."""
    tables = tuple(TABLES) if tables is None else tables
    return postgres_sql(tables) if vendor == "postgresql" else sqlite_sql(tables)
