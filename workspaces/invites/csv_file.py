"""Reading an invitation file (``manage.py invite_bulk``) and turning its rows into InviteSpecs.

The file: a header row, then one row per person; columns ``email,role,sites,teams`` in any order,
only ``email`` required; ``sites`` as ``slug:role;slug:role``, ``teams`` as ``name;name``. Roles are
found by key or name, in any letter case. UTF-8 with or without a byte-order mark, CRLF or LF line
ends, quoted fields.

The file is read as a stream of lines, each decoded on its own, so a byte that is not UTF-8 is
reported with its line number. Every problem is collected (line → reason) before anything is
written, so the operator sees all of them at once (rule 8).
"""

from __future__ import annotations

import codecs
import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from accounts.models import normalize_email
from permissions import catalog
from permissions.models import Role
from permissions.selectors import roles_of
from workspaces.invites.specs import InviteSpec
from workspaces.models import Site, Team, Workspace

COLUMNS = ("email", "role", "sites", "teams")
LIST_SEPARATOR = ";"


class InviteFileError(ValueError):
    """The file as a whole cannot be used (empty, no header, unknown columns)."""


@dataclass(slots=True)
class CsvRow:
    line: int
    email: str
    role: str = ""
    sites: str = ""
    teams: str = ""


@dataclass
class ParsedFile:
    rows: list[CsvRow] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)  # line → reason


def _decoded_lines(
    stream: Iterable[bytes], bad: dict[int, str], on_bytes: Callable[[int], None] | None
) -> Iterator[str]:
    """Decode line by line so that a bad byte is pinned to its line; the line still goes to the CSV
    reader (with replacement characters) so that the lines after it keep their numbers."""
    for number, raw in enumerate(stream, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.setdefault(
                number,
                f"Not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}): save the file as UTF-8.",
            )
            yield raw.decode("utf-8", errors="replace")


def _header(reader, bad_bytes: dict[int, str]) -> list[str]:
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue  # blank lines before the header
        line = reader.line_num
        if line in bad_bytes:
            raise InviteFileError(f"line {line}: {bad_bytes[line]}")
        names = [f.strip().lower() for f in fields]
        unknown = [n for n in names if n not in COLUMNS]
        if unknown or "email" not in names or len(set(names)) != len(names):
            raise InviteFileError(
                f"line {line}: the first row must be a header naming the columns, "
                f"from {', '.join(COLUMNS)} (email is required); found {', '.join(fields)}."
            )
        return names
    raise InviteFileError("The file is empty: it needs a header row (email,role,sites,teams) and one row per person.")


def read_invite_csv(stream: Iterable[bytes], on_bytes: Callable[[int], None] | None = None) -> ParsedFile:
    """Parse a binary stream of lines; raises InviteFileError for a file that cannot be used."""
    bad_bytes: dict[int, str] = {}
    reader = csv.reader(_decoded_lines(stream, bad_bytes, on_bytes))
    try:
        names = _header(reader, bad_bytes)
    except csv.Error as exc:
        raise InviteFileError(f"line {reader.line_num}: the header cannot be read as CSV ({exc}).") from exc
    parsed = ParsedFile()
    seen: dict[str, list[int]] = defaultdict(list)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems[start] = f"Cannot be read as CSV ({exc})."
            continue
        if not any(f.strip() for f in fields):
            continue  # blank line
        bad = next((bad_bytes[n] for n in range(start, reader.line_num + 1) if n in bad_bytes), None)
        if bad:
            parsed.problems[start] = bad
        elif len(fields) > len(names):
            parsed.problems[start] = f"{len(fields)} fields, but the header names {len(names)} columns."
        else:
            row = CsvRow(start, **{n: v.strip() for n, v in zip(names, fields, strict=False)})
            row.email = normalize_email(row.email)  # so that two spellings of one address are one row
            if not row.email:
                parsed.problems[start] = "No e-mail address."
            else:
                seen[row.email].append(start)
                parsed.rows.append(row)
    if not parsed.rows and not parsed.problems:
        raise InviteFileError("The file has a header but no rows: add one row per person to invite.")
    _refuse_duplicates(parsed, seen)
    return parsed


def _refuse_duplicates(parsed: ParsedFile, seen: dict[str, list[int]]) -> None:
    """An address on two rows is ambiguous (which role?), so every one of its rows is refused."""
    repeated = {email: lines for email, lines in seen.items() if len(lines) > 1}
    if not repeated:
        return
    kept = []
    for row in parsed.rows:
        lines = repeated.get(row.email)
        if lines is None:
            kept.append(row)
            continue
        others = [str(n) for n in lines if n != row.line]
        where = f"line{'s' if len(others) > 1 else ''} {', '.join(others)}"
        parsed.problems[row.line] = f"{row.email} is also on {where} (in any spelling); keep one row."
    parsed.rows = kept


# --- names → objects ----------------------------------------------------------------------------


class _Names:
    """The roles, sites and teams a file may name, loaded once (three queries)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.roles_by_key: dict[tuple[str, str], list[Role]] = defaultdict(list)
        self.roles_by_name: dict[tuple[str, str], list[Role]] = defaultdict(list)
        for role in roles_of(workspace):
            self.roles_by_key[(role.scope, role.key.lower())].append(role)
            self.roles_by_name[(role.scope, role.name.lower())].append(role)
        self.sites = {site.slug.lower(): site for site in Site.objects.filter(workspace=workspace)}
        self.teams = {team.name.lower(): team for team in Team.objects.filter(workspace=workspace)}

    def role(self, text: str, scope: str) -> Role:
        wanted = (scope, text.strip().lower())
        for index in (self.roles_by_key, self.roles_by_name):
            found = index.get(wanted, [])
            if len(found) == 1:
                return found[0]
            if found:
                keys = ", ".join(sorted(r.key for r in found))
                raise LookupError(f"The role “{text}” is ambiguous (keys {keys}); name it by a unique key or name.")
        kind = "workspace" if scope == catalog.WORKSPACE else "site"
        choices = sorted({r.name for (s, _), rs in self.roles_by_name.items() if s == scope for r in rs})
        raise LookupError(f"No {kind} role “{text}” in {self.workspace}; choose from {', '.join(choices)}.")

    def site_grants(self, text: str) -> tuple:
        grants = []
        for item in _split(text):
            slug, colon, role_text = item.partition(":")
            if not colon or not slug.strip() or not role_text.strip():
                raise LookupError(f"“{item}” should be site:role, e.g. shop:editor.")
            site = self.sites.get(slug.strip().lower())
            if site is None:
                raise LookupError(f"No site “{slug.strip()}” in {self.workspace}.")
            grants.append((site, self.role(role_text, catalog.SITE)))
        if len({site.pk for site, _ in grants}) != len(grants):
            raise LookupError("A site is named more than once in “sites”.")
        return tuple(grants)

    def team_list(self, text: str) -> tuple:
        teams = []
        for name in _split(text):
            team = self.teams.get(name.lower())
            if team is None:
                raise LookupError(f"No team “{name}” in {self.workspace}.")
            teams.append(team)
        return tuple(dict.fromkeys(teams))


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


@dataclass
class ResolvedRows:
    specs: list[InviteSpec] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line of each spec
    problems: dict[int, str] = field(default_factory=dict)  # line → reason


def resolve_rows(workspace: Workspace, rows: Iterable[CsvRow], default_role: str) -> ResolvedRows:
    """Roles, sites and teams by name → objects; a row naming something unknown is a problem.

    ``default_role`` is the role of rows that name none; InviteFileError if there is no such role.
    """
    names = _Names(workspace)
    try:
        fallback_role = names.role(default_role, catalog.WORKSPACE)
    except LookupError as exc:
        raise InviteFileError(f"--role: {exc.args[0]}") from exc
    resolved = ResolvedRows()
    for row in rows:
        try:
            role = names.role(row.role, catalog.WORKSPACE) if row.role else fallback_role
            spec = InviteSpec(row.email, role, names.site_grants(row.sites), names.team_list(row.teams))
        except LookupError as exc:
            resolved.problems[row.line] = str(exc.args[0])
            continue
        resolved.specs.append(spec)
        resolved.lines.append(row.line)
    return resolved
