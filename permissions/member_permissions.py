"""GET /api/v1/members/<email>/permissions: everything one member holds, a page at a time.

An Admin of a workspace with 10,000 sites holds every site capability on each of them: the whole
answer was 7 MB. So the sites, then the experiences, on which the member holds something come in
pages of at most ``limit`` objects (default ``PAGE_DEFAULT``, at most ``PAGE_MAX``), in id order;
``next`` is the path of the next page, or null on the last. Every page repeats the workspace
capabilities. A workspace whose member holds something on at most ``PAGE_DEFAULT`` objects gets
the answer it always got, with ``"next": null`` added.

The cursor names the scope and the last id already given (``site:123``, ``experience:45``); it is
for the API to read back, not for callers to build. Each page costs the same few queries at any
size: the member, the workspace capabilities, and for each scope it reaches one query for the page
of objects and one for what is held on them (``policy.held_anything``, ``policy.load_permissions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import QueryDict

from accounts.models import normalize_email
from workspaces.models import Experience, Site, Workspace

from . import catalog
from .checks import CheckError, member_ids
from .policy import held_anything, load_permissions

PAGE_DEFAULT = 500  # objects per page when the caller does not say
PAGE_MAX = 1000  # the most objects a page may hold
_CURSOR = re.compile(r"(site|experience):([0-9]{1,19})")
_LIMIT = re.compile(r"[0-9]{1,5}")
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Position:
    """Where a page starts: in ``scope``, after the object ``after`` (0: from the first)."""

    scope: str = catalog.SITE
    after: int = 0

    def cursor(self) -> str:
        return f"{self.scope}:{self.after}"


def parse_page(params: QueryDict) -> tuple[Position, int]:
    """The page asked for (``cursor``) and its size (``limit``); CheckError(400) for anything else."""
    cursor, limit = params.get("cursor"), params.get("limit")
    position = Position()
    if cursor is not None:
        found = _CURSOR.fullmatch(cursor)
        if found is None or int(found[2]) > _MAX_ID:
            raise CheckError("“cursor” must be the one a previous page gave as “next”.")
        position = Position(found[1], int(found[2]))
    size = PAGE_DEFAULT
    if limit is not None:
        if not _LIMIT.fullmatch(limit) or not 1 <= int(limit) <= PAGE_MAX:
            raise CheckError(f"“limit” must be a whole number from 1 to {PAGE_MAX}.")
        size = int(limit)
    return position, size


@dataclass
class MemberPage:
    workspace: list[str]
    sites: dict[str, list[str]]
    experiences: dict[str, list[str]]
    next: Position | None


def member_permissions(workspace: Workspace, email: str, position: Position, limit: int) -> MemberPage | None:
    """One page of what the member holds, or None if the address is not an active member."""
    address = normalize_email(email)
    user_id = member_ids(workspace, {address}).get(address)
    if user_id is None:
        return None
    held_here = load_permissions([user_id], catalog.WORKSPACE, [workspace.pk], workspace_id=workspace.pk)
    page = MemberPage(sorted(held_here.get((user_id, workspace.pk), ())), {}, {}, None)
    after_experience, room = position.after, limit
    if position.scope == catalog.SITE:
        sites, more = _page(user_id, Site.objects.filter(workspace=workspace), "slug", position.after, limit)
        page.sites = _held(user_id, catalog.SITE, sites, workspace.pk)
        if more:
            page.next = Position(catalog.SITE, list(sites)[-1])
            return page
        after_experience, room = 0, limit - len(sites)
    experiences, more = _page(user_id, Experience.objects.filter(workspace=workspace), "pk", after_experience, room)
    page.experiences = _held(user_id, catalog.EXPERIENCE, experiences, workspace.pk)
    if more:
        page.next = Position(catalog.EXPERIENCE, list(experiences)[-1] if experiences else after_experience)
    return page


def _page(user_id: int, objects, name_field: str, after: int, size: int) -> tuple[dict[int, str], bool]:
    """{id: name} of up to ``size`` objects after ``after`` on which the member holds something,
    and whether more follow (one more row is read to know): one query."""
    rows = held_anything(user_id, objects).filter(pk__gt=after).order_by("pk").values_list("pk", name_field)
    found = {pk: str(name) for pk, name in rows[: size + 1]}
    return dict(list(found.items())[:size]), len(found) > size


def _held(user_id: int, scope: str, names: dict[int, str], workspace_id: int) -> dict[str, list[str]]:
    """{name: sorted codenames} of the page's objects, in id order: one query (none for no object)."""
    held = load_permissions([user_id], scope, names, workspace_id=workspace_id)
    return {names[obj_id]: sorted(codes) for (_, obj_id), codes in sorted(held.items()) if codes}
