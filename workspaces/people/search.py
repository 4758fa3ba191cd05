"""Searching, filtering and sorting a workspace's members (the people page and the members export).

The parameters live in the URL (a GET form), so a filtered list can be shared and the export of the
list is the same query. Every parameter is optional and a value that does not parse is ignored, never
an error: a hand-edited URL shows the whole list rather than a 500. One query reads a page of members
with their account, role and whether they set up two-factor authentication (an ``Exists``
annotation, not a query per row); a second reads the page's teams.
"""

from __future__ import annotations

from django import forms
from django.db.models import F
from django.http import QueryDict

from kernel.paging import clean_text

# sort parameter → order (id last, so equal names, dates or empty sign-ins keep one stable order)
SORTS = {
    "name": ("user__full_name", "user__email", "id"),
    "-name": ("-user__full_name", "-user__email", "-id"),
    "email": ("user__email", "id"),
    "-email": ("-user__email", "-id"),
    "joined": ("joined_at", "id"),
    "-joined": ("-joined_at", "-id"),
    # Those who never signed in come last both ways (indexes: accounts migration 0004).
    "last_sign_in": (F("user__last_login").asc(nulls_last=True), "id"),
    "-last_sign_in": (F("user__last_login").desc(nulls_last=True), "-id"),
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
        # Its own ids (filter_role…): the invitation form on the same page has a role field too.
        super().__init__(data, auto_id="filter_%s")
        # Django forms refuse NUL in any text field; the search text is cleaned below instead.
        self.fields["q"].validators = []
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Name or e-mail"})
        self.fields["role"].choices = [("", "Any role"), *((r.pk, r.name) for r in roles)]
        self.fields["team"].choices = [("", "Any team"), *((t.pk, t.name) for t in teams)]

    def criteria(self) -> dict:
        """The valid parameters only; anything that does not parse counts as not given."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "q": clean_text(self.data.get("q", "") if self.data else ""),
            "role": cleaned.get("role"),
            "team": cleaned.get("team"),
            "two_factor": cleaned.get("two_factor") or "",
            "joined_since": cleaned.get("joined_since"),
            "sort": cleaned.get("sort") or DEFAULT_SORT,
        }


def filter_query(query: QueryDict) -> str:
    """``?`` and the search and filter parameters of ``query`` (no page numbers), or "" if none."""
    params = QueryDict(mutable=True)
    for key in FILTER_PARAMS:
        if value := query.get(key):
            params[key] = value
    return "?" + params.urlencode() if params else ""


# --- the members export (manage.py export_members and the people page's download) ----------------

EXPORT_COLUMNS = ("email", "name", "role", "sites", "teams", "joined")
EXPORT_CHUNK = 1000  # members read per query (and per prefetch of their grants and teams)


def export_cells(row: dict) -> list[str]:
    """A row as CSV cells: lists joined with ``;``."""
    return [";".join(row[c]) if isinstance(row[c], list) else row[c] for c in EXPORT_COLUMNS]
