"""Searching, filtering and sorting a workspace's members (the people page and the members export).

The parameters live in the URL (a GET form), so a filtered list can be shared and the export of the
list is the same query. Every parameter is optional and a value that does not parse is ignored, never
an error: a hand-edited URL shows the whole list rather than a 500. One query reads a page of members
with their account, role and whether they set up two-factor authentication (an ``Exists``
annotation, not a query per row); a second reads the page's teams.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django import forms
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from permissions import catalog
from workspaces.models import Membership, SiteGrant, Team, Workspace

PAGE_SIZE = 50  # members per page; invitations and join requests are paged the same way
SEARCH_MAX = 100  # characters of the search text used

# sort parameter → order (id last, so equal names, dates or empty sign-ins keep one stable order)
SORTS = {
    "name": ("user__full_name", "user__email", "id"),
    "-name": ("-user__full_name", "-user__email", "-id"),
    "email": ("user__email", "id"),
    "-email": ("-user__email", "-id"),
    "joined": ("joined_at", "id"),
    "-joined": ("-joined_at", "-id"),
    "last_sign_in": ("user__last_login", "id"),
    "-last_sign_in": ("-user__last_login", "-id"),
}
SORT_LABELS = {
    "joined": "Joined, oldest first",
    "-joined": "Joined, newest first",
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "email": "E-mail, A to Z",
    "-email": "E-mail, Z to A",
    "-last_sign_in": "Last sign-in, latest first",
    "last_sign_in": "Last sign-in, earliest first",
}
DEFAULT_SORT = "joined"
FILTER_PARAMS = ("q", "role", "team", "two_factor", "joined_since", "sort")


def _clean_text(value: str) -> str:
    """The search text without NUL or other control characters (PostgreSQL refuses a NUL), trimmed."""
    return "".join(ch for ch in value if ch.isprintable())[:SEARCH_MAX].strip()


class MemberFilterForm(forms.Form):
    """The people page's search and filter bar; choices come from lists the page already has."""

    q = forms.CharField(label="Search", required=False, max_length=10_000, strip=False)
    role = forms.TypedChoiceField(label="Role", required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label="Team", required=False, coerce=int, empty_value=None)
    two_factor = forms.ChoiceField(
        label="Two-factor",
        required=False,
        choices=[("", "Any"), ("yes", "Set up"), ("no", "Not set up")],
    )
    joined_since = forms.DateField(label="Joined since", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(SORT_LABELS.items()))

    def __init__(self, data=None, *, roles, teams):
        super().__init__(data)
        # Django forms refuse NUL in any text field; the search text is cleaned below instead.
        self.fields["q"].validators = []
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Name or e-mail"})
        self.fields["role"].choices = [("", "Any role"), *((r.pk, r.name) for r in roles)]
        self.fields["team"].choices = [("", "Any team"), *((t.pk, t.name) for t in teams)]

    def criteria(self) -> dict:
        """The valid parameters only; anything that does not parse counts as not given."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        raw_q = self.data.get("q", "") if self.data else ""
        return {
            "q": _clean_text(raw_q if isinstance(raw_q, str) else ""),
            "role": cleaned.get("role"),
            "team": cleaned.get("team"),
            "two_factor": cleaned.get("two_factor") or "",
            "joined_since": cleaned.get("joined_since"),
            "sort": cleaned.get("sort") or DEFAULT_SORT,
        }


def members_matching(workspace: Workspace, criteria: dict) -> QuerySet[Membership]:
    """The workspace's members matching ``criteria`` (from ``MemberFilterForm.criteria``), in the
    asked order, with account and role joined and ``has_two_factor`` annotated. One query per
    evaluation; teams are the caller's to prefetch (a page) or join (the export)."""
    two_factor = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    members = (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "role")
        .annotate(has_two_factor=Exists(two_factor))
    )
    if text := criteria.get("q"):
        members = members.filter(Q(user__full_name__icontains=text) | Q(user__email__icontains=text))
    if criteria.get("role") is not None:
        members = members.filter(role_id=criteria["role"])
    if criteria.get("team") is not None:
        members = members.filter(teams__id=criteria["team"], teams__workspace=workspace)
    if criteria.get("two_factor") == "yes":
        members = members.filter(has_two_factor=True)
    elif criteria.get("two_factor") == "no":
        members = members.filter(has_two_factor=False)
    since = criteria.get("joined_since")
    if since is not None and 1 < since.year < 9999:  # the extremes may not convert to UTC
        members = members.filter(
            joined_at__gte=timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        )
    return members.order_by(*SORTS.get(criteria.get("sort"), SORTS[DEFAULT_SORT]))


def teams_of(workspace: Workspace) -> list[Team]:
    return list(Team.objects.filter(workspace=workspace).order_by("name", "id"))


def active_owner_count(workspace: Workspace) -> int:
    """Owners whose account is active (rule 1 counts these): one query."""
    return Membership.objects.filter(
        workspace=workspace, role__builtin=True, role__key=catalog.OWNER, user__is_active=True
    ).count()


def filter_query(query: QueryDict) -> str:
    """``?`` and the search and filter parameters of ``query`` (no page numbers), or "" if none."""
    params = QueryDict(mutable=True)
    for key in FILTER_PARAMS:
        if value := query.get(key):
            params[key] = value
    return "?" + params.urlencode() if params else ""


def page_links(query: QueryDict, page, param: str) -> dict:
    """Links to the previous and next page of ``page`` (a Paginator page) under the ``param``
    parameter, keeping every other parameter of the URL (the search, filters and other lists' pages)."""

    def link(number: int) -> str:
        params = query.copy()
        params[param] = str(number)
        return "?" + params.urlencode()

    return {
        "page": page,
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


# --- the members export (manage.py export_members and the people page's download) ----------------

EXPORT_COLUMNS = ("email", "name", "role", "sites", "teams", "joined")
EXPORT_CHUNK = 1000  # members read per query (and per prefetch of their grants and teams)


def with_export_details(members: QuerySet[Membership]) -> QuerySet[Membership]:
    """The members with what an export row needs: account and role joined, own site grants and
    teams prefetched (two more queries per chunk of members)."""
    return members.select_related("user", "role").prefetch_related(
        Prefetch("site_grants", queryset=SiteGrant.objects.select_related("site", "role").order_by("site__slug")),
        Prefetch("teams", queryset=Team.objects.order_by("name")),
    )


def export_row(member: Membership) -> dict:
    return {
        "email": member.user.email,
        "name": member.user.full_name,
        "role": member.role.name,
        # The member's own grants (slug:role), the format invite_bulk reads; team grants come with "teams".
        "sites": [f"{grant.site.slug}:{grant.role.name}" for grant in member.site_grants.all()],
        "teams": [team.name for team in member.teams.all()],
        "joined": member.joined_at.isoformat(),
    }


def export_cells(row: dict) -> list[str]:
    """A row as CSV cells: lists joined with ``;``."""
    return [";".join(row[c]) if isinstance(row[c], list) else row[c] for c in EXPORT_COLUMNS]


def export_rows(members: QuerySet[Membership]) -> Iterator[dict]:
    """One dict per member, read ``EXPORT_CHUNK`` at a time (a server-side cursor on PostgreSQL),
    so memory does not grow with the number of members."""
    for member in with_export_details(members).iterator(chunk_size=EXPORT_CHUNK):
        yield export_row(member)
