"""The forms of the people page's bulk actions.

A selection is either the rows ticked (checkbox values, plus the ids of rows ticked on other pages
that the page's optional script carries in one comma-separated field) or "all matching": the
page's filter, sent as its query string and resolved by the view at the time of the action. Ids
must be ASCII digits; anything else refuses the whole request (no guessing what was meant). Which
of those ids belong to the workspace is for the services to find out.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portal.ascii_ids import is_ascii_id
from workspaces.people.bulk import MAX_BATCH

SELECTED, ALL = "selected", "all"
MEMBER_ACTIONS = {  # action → the capability it needs on the workspace
    "role": "change_member_roles",
    "team_add": "manage_teams",
    "team_remove": "manage_teams",
    "remove": "remove_members",
}
INVITE_ACTIONS = {"resend": "invite_members", "revoke": "invite_members"}
MAX_ID_DIGITS = 19  # a bigint; longer is no id of ours


def selected_ids(values: list[str], carried: str) -> list[int]:
    """The ids of the ticked boxes and the carried list, each once, in order."""
    raw = [*values, *(part for part in carried.split(",") if part.strip())]
    if len(raw) > MAX_BATCH * 2:  # duplicates aside, far beyond what a page and its script send
        raise ValidationError(f"Select at most {MAX_BATCH:,} at a time; nothing was changed.")
    ids = []
    for value in raw:
        value = value.strip()
        if not is_ascii_id(value) or len(value) > MAX_ID_DIGITS:
            raise ValidationError("The selection is not valid; nothing was changed.")
        ids.append(int(value))
    return list(dict.fromkeys(ids))


class BulkSelectionForm(forms.Form):
    scope = forms.ChoiceField(choices=[(SELECTED, "The rows ticked"), (ALL, "All matching")], initial=SELECTED)
    carried = forms.CharField(required=False, max_length=MAX_BATCH * 21, strip=False)
    id_field = ""  # the checkboxes' name

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned["scope"] == SELECTED:
            cleaned["ids"] = selected_ids(self.data.getlist(self.id_field), cleaned.get("carried", ""))
            if not cleaned["ids"]:
                raise ValidationError("Tick at least one row first; nothing was changed.")
        return cleaned


class BulkMembersForm(BulkSelectionForm):
    action = forms.ChoiceField(choices=[(key, key) for key in MEMBER_ACTIONS])
    new_role = forms.TypedChoiceField(label="New role", coerce=int, required=False, empty_value=None)
    bulk_team = forms.TypedChoiceField(label="Team", coerce=int, required=False, empty_value=None)
    filter = forms.CharField(required=False, max_length=4000, strip=False)
    id_field = "member"

    def __init__(self, *args, roles, teams, **kwargs):
        """``roles``: every workspace role of the workspace (a role the person may not give is
        refused by the service, per row, with its reason); ``teams``: the workspace's teams."""
        super().__init__(*args, **kwargs)
        self._roles = {role.pk: role for role in roles}
        self._teams = {team.pk: team for team in teams}
        self.fields["new_role"].choices = [(pk, role.name) for pk, role in self._roles.items()]
        self.fields["bulk_team"].choices = [(pk, team.name) for pk, team in self._teams.items()]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        action = cleaned.get("action")
        if action == "role":
            if cleaned.get("new_role") is None:
                raise ValidationError("Choose the new role; nothing was changed.")
            cleaned["role"] = self._roles[cleaned["new_role"]]
        elif action in ("team_add", "team_remove"):
            if cleaned.get("bulk_team") is None:
                raise ValidationError("Choose the team; nothing was changed.")
            cleaned["team"] = self._teams[cleaned["bulk_team"]]
        return cleaned


class BulkInvitesForm(BulkSelectionForm):
    action = forms.ChoiceField(choices=[(key, key) for key in INVITE_ACTIONS])
    id_field = "invite"
