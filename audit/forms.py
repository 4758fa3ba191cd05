"""The activity page's filters (a GET form: filtering changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

import re

from django import forms
from django.core.validators import RegexValidator

from .selectors import EventFilters
from .wording import action_label

CONTAINS, EXACT = "contains", "exact"
ACTION_NAME = re.compile(r"^[a-z0-9_.]+$")


class ActivityFilterForm(forms.Form):
    person = forms.CharField(
        label="Person",
        required=False,
        max_length=254,
        help_text="The e-mail address of whoever made the change, or a part of it.",
    )
    match = forms.ChoiceField(
        label="Match",
        choices=[(CONTAINS, "contains"), (EXACT, "is exactly")],
        required=False,
        initial=CONTAINS,
    )
    # Any well-formed action name is accepted (the export does not list them); one that never
    # occurred just finds nothing.
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=64,
        validators=[RegexValidator(ACTION_NAME, "Choose an action from the list.")],
        widget=forms.Select,
    )
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        # Keep a chosen action selectable even when the log no longer has it.
        chosen = self.data.get("action", "") if self.is_bound else ""
        present = list(dict.fromkeys([*actions, *([chosen] if ACTION_NAME.match(chosen) else [])]))
        choices = sorted(((a, action_label(a)) for a in present), key=lambda choice: choice[1])
        self.fields["action"].widget.choices = [("", "Any action"), *choices]
        self.fields["action"].widget.attrs.pop("maxlength", None)  # a CharField's, meaningless on a select

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The last day must not be before the first day.")
        return cleaned

    def filters(self) -> EventFilters:
        """The filters of a valid form."""
        data = self.cleaned_data
        return EventFilters(
            person=data["person"].strip(),
            exact=data["match"] == EXACT,
            action=data["action"],
            since=data["since"],
            until=data["until"],
        )
