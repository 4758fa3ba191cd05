"""The workspace's pickers (see ``kernel.pickers`` for how a picker works and how to put one on a
page): what a search for members, teams or sites offers, and the form field that turns a posted
member back into a member of the URL's workspace.

For a page that picks a member (a team's page, a viewer group's, …)::

    from kernel.pickers import Picker, PickerViewMixin
    from workspaces.pickers.forms import PickedMemberField, member_search

    candidates = Membership.objects.filter(workspace=self.workspace)   # narrowed as the page needs
    picker = Picker(request.GET, name="member", field="membership", label="Member",
                    search=member_search(candidates))
    # the POST form:
    membership = PickedMemberField(label="Member")   # then form.fields["membership"].candidates = candidates

The search costs one query (two for members and teams), whatever the number of candidates.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from kernel.pickers import Choice, Search
from portal.ascii_ids import is_ascii_id
from workspaces.models import Membership, Site, Team, Workspace
from workspaces.pickers.selectors import find_members, find_sites, find_teams, grantee_in, picked, workspace_members

MAX_ID = 2**63 - 1  # beyond a database id: cannot exist, and would not bind


def member_choice(membership: Membership, value: str = "") -> Choice:
    user = membership.user
    detail = f"{user.email}, {membership.role.name}" if user.full_name else membership.role.name
    return Choice(value or str(membership.pk), user.display_name, detail)


def member_search(candidates: QuerySet[Membership]) -> Search:
    """Members of ``candidates`` by name or address; the posted value is the membership's id."""

    def search(text: str, limit: int) -> list[Choice]:
        return [member_choice(member) for member in find_members(candidates, text, limit)]

    return search


def grantee_search(workspace: Workspace) -> Search:
    """Members (``m<id>``) and teams (``t<id>``) of ``workspace`` by name or address. When both
    are many, teams take at most half of the places."""
    candidates = workspace_members(workspace)

    def search(text: str, limit: int) -> list[Choice]:
        members = find_members(candidates, text, limit)
        teams = find_teams(workspace, text, limit)
        room_for_teams = max(limit - len(members), limit // 2)
        shown_members = members[: limit - min(len(teams), room_for_teams)]
        return [member_choice(m, f"m{m.pk}") for m in shown_members] + [
            Choice(f"t{team.pk}", team.name, "team") for team in teams[:room_for_teams]
        ]

    return search


def site_search(candidates: QuerySet[Site]) -> Search:
    """Sites of ``candidates`` by name, address or slug; the posted value is the site's id."""

    def search(text: str, limit: int) -> list[Choice]:
        return [Choice(str(site.pk), site.name, site.url or site.slug) for site in find_sites(candidates, text, limit)]

    return search


def id_from(value) -> int | None:
    """The database id a posted value names (ASCII digits in range), or None."""
    if not is_ascii_id(value) or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


class PickedMemberField(forms.CharField):
    """The member a picker's radio button names, looked up among ``candidates`` (a queryset scoped
    to the URL's workspace, set by the form): one query. Anything else is the field's error."""

    default_error_messages = {"invalid_choice": "Choose a member of this workspace."}

    def __init__(self, *, candidates: QuerySet[Membership] | None = None, **kwargs):
        self.candidates = candidates
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        pk = id_from(value)
        found = picked(self.candidates.select_related("user", "role"), pk) if pk is not None else None
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


def grantee_from(workspace: Workspace, value) -> Membership | Team | None:
    """The member (``m<id>``) or team (``t<id>``) of ``workspace`` a grantee picker posted, or None."""
    if not isinstance(value, str) or value[:1] not in ("m", "t"):
        return None
    pk = id_from(value[1:])
    if pk is None:
        return None
    return grantee_in(workspace, "team" if value[0] == "t" else "member", pk)
