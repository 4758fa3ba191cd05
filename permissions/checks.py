"""The check API's logic: validate questions, answer many at once in a fixed number of queries.

"May <e-mail> do <codename> on <site | experience | the workspace>?" Only members answer yes:
an unknown address, an inactive account, or someone outside the workspace (superusers included,
docs/RULES.md 2.3) holds nothing. However many questions a batch holds, it costs one query for the
people, one per kind of object named, and two per scope for the permissions
(``policy.load_permissions``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models.functions import Lower

from accounts.models import normalize_email
from workspaces.models import Experience, Membership, Site, Workspace

from . import catalog
from .policy import load_permissions

MAX_BATCH = 1000
_ASCII_INTEGER = re.compile(r"-?[0-9]+")


class CheckError(Exception):
    """A question the API refuses: ``status`` 400 for a bad question, 404 for an unknown object."""

    def __init__(self, message: str, *, status: int = 400, index: int | None = None):
        super().__init__(message)
        self.message, self.status, self.index = message, status, index

    def describe(self) -> str:
        return self.message if self.index is None else f"checks[{self.index}]: {self.message}"


@dataclass(frozen=True)
class Check:
    email: str
    codename: str
    scope: str
    target: str | int | None = None  # a site's slug, an experience's id, or None for the workspace


def parse_check(data: Mapping, index: int | None = None) -> Check:
    """One question from query parameters or a batch item; CheckError(400) says what is wrong."""

    def refuse(message: str) -> CheckError:
        return CheckError(message, index=index)

    if not isinstance(data, Mapping):
        raise refuse('Each check must be an object: {"user": ..., "permission": ...}.')
    email, codename = data.get("user"), data.get("permission")
    if not isinstance(email, str) or not email.strip():
        raise refuse("Give the person's e-mail address as “user”.")
    if not isinstance(codename, str) or not codename:
        raise refuse("Give a capability codename as “permission”.")
    site, experience = data.get("site"), data.get("experience")
    if site not in (None, "") and experience not in (None, ""):
        raise refuse("Name a site or an experience, not both.")
    if site not in (None, ""):
        if not isinstance(site, str):
            raise refuse("“site” must be a site's short name (slug).")
        scope, target = catalog.SITE, site
    elif experience not in (None, ""):
        scope, target = catalog.EXPERIENCE, _experience_id(experience, refuse)
    else:
        scope, target = catalog.WORKSPACE, None
    capability = catalog.CAPABILITIES.get(codename)
    if capability is None:
        raise refuse(f"Unknown capability “{codename}”.")
    if capability.scope != scope:
        raise refuse(f"“{codename}” is a {capability.scope} capability; {_how_to_ask(capability.scope)}.")
    return Check(normalize_email(email), codename, scope, target)


def _experience_id(value, refuse) -> int:
    """An id given as a JSON integer or as ASCII digits (query strings carry only text). ``int()`` alone
    would also take "١" (Arabic-Indic one), "+1", " 1 " and "1_0". A negative id is well-formed but
    names nothing: 404, like any id that is not in the workspace."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _ASCII_INTEGER.fullmatch(value):
        return int(value)
    raise refuse("“experience” must be an experience's numeric id.")


def _how_to_ask(scope: str) -> str:
    if scope == catalog.WORKSPACE:
        return "ask without a site or experience"
    return f"name the {scope} it applies to"


def parse_batch(body) -> list[Check]:
    """A batch body ``{"checks": [...]}``: at most MAX_BATCH items, each valid."""
    items = body.get("checks") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise CheckError('Send {"checks": [{"user": ..., "permission": ..., "site" or "experience": ...}, ...]}.')
    if len(items) > MAX_BATCH:
        raise CheckError(f"At most {MAX_BATCH} checks per request; this one has {len(items)}.")
    return [parse_check(item, index) for index, item in enumerate(items)]


def run_checks(workspace: Workspace, checks: Sequence[Check]) -> list[bool]:
    """The answers, in order. CheckError(404) names the first check whose object is not in the workspace."""
    objects = {
        catalog.WORKSPACE: {None: workspace.pk},
        catalog.SITE: _site_ids(workspace, {c.target for c in checks if c.scope == catalog.SITE}),
        catalog.EXPERIENCE: _experience_ids(workspace, {c.target for c in checks if c.scope == catalog.EXPERIENCE}),
    }
    for index, check in enumerate(checks):
        if check.target not in objects[check.scope]:
            # Another workspace's object gets the same answer as a missing one: the key's
            # workspace does not admit that other workspaces' objects exist.
            raise CheckError(f"No {check.scope} “{check.target}” in this workspace.", status=404, index=index)
    people = member_ids(workspace, {check.email for check in checks})
    held = {}
    for scope, ids in objects.items():
        users = {people[c.email] for c in checks if c.scope == scope and c.email in people}
        held[scope] = load_permissions(users, scope, ids.values(), workspace_id=workspace.pk) if users else {}
    answers = []
    for check in checks:
        user_id = people.get(check.email)
        object_id = objects[check.scope][check.target]
        answers.append(user_id is not None and check.codename in held[check.scope].get((user_id, object_id), ()))
    return answers


def member_ids(workspace: Workspace, emails: set[str]) -> dict[str, int]:
    """e-mail → user id, for active accounts that are members of the workspace: one query."""
    if not emails:
        return {}
    rows = (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .annotate(email_key=Lower("user__email"))
        .filter(email_key__in=emails)
        .values_list("email_key", "user_id")
    )
    return dict(rows)


def _site_ids(workspace: Workspace, slugs: set[str]) -> dict[str, int]:
    if not slugs:
        return {}
    return dict(Site.objects.filter(workspace=workspace, slug__in=slugs).values_list("slug", "id"))


def _experience_ids(workspace: Workspace, ids: set[int]) -> dict[int, int]:
    ids = {pk for pk in ids if 0 < pk < 2**63}  # beyond a database id: cannot exist, and would not bind
    if not ids:
        return {}
    return {pk: pk for pk in Experience.objects.filter(workspace=workspace, pk__in=ids).values_list("id", flat=True)}
