"""Forms of the team page and the invitation page.

They check the shape of the input and that every chosen object belongs to the URL's workspace; the
rules (who may give which role, the last owner, site owners) are the services' to check. The
invitation form takes its choices from lists the page already loaded, so rendering it costs no
query.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.forms import SignupForm
from accounts.models import normalize_email
from permissions import catalog
from permissions.forms import RoleChoiceField, role_choice_label
from permissions.selectors import roles_of
from workspaces.models import Membership, Workspace
from workspaces.pickers.forms import id_from

GRANT_ROWS = 3  # site grants offered by the invitation form; more can be given on the site's page
SITE_NOT_OFFERED = "Select a valid choice. That is not a site of this workspace that you can see."
ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


def split_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines; each once, in order."""
    return list(dict.fromkeys(normalize_email(part) for part in ADDRESS_SEPARATORS.split(text or "") if part))


def _choices(objects, label=str) -> list[tuple[int, str]]:
    return [(obj.pk, label(obj)) for obj in objects]


CHOOSE = ("", "Choose…")


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="E-mail addresses",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="One or more, separated by commas or new lines.",
        error_messages={"required": "Enter at least one e-mail address."},
    )
    role = forms.TypedChoiceField(
        label="Workspace role", coerce=int, error_messages={"required": "Choose the workspace role to offer."}
    )
    teams = forms.TypedMultipleChoiceField(
        label="Teams", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, roles, givable, sites, site_candidates, site_roles, teams, **kwargs):
        """``roles``: every workspace role of the workspace (a role the actor may not give is
        refused by the service, with its reason); only ``givable`` ones are offered. ``sites``: the
        (id, name) pairs the site fields offer (a site picker's matches, never every site);
        ``site_candidates``: the sites the actor may name, where a posted site is looked up."""
        super().__init__(*args, **kwargs)
        self._by_id = {
            "role": {r.pk: r for r in roles},
            "site_role": {r.pk: r for r in site_roles},
            "team": {t.pk: t for t in teams},
        }
        self._site_candidates = site_candidates
        # Nothing is chosen for the inviter: they pick the role (the offered ones only; the rest
        # are still refused clearly).
        self.fields["role"].choices = [CHOOSE, *_choices(roles, role_choice_label)]
        self.fields["role"].widget.choices = [CHOOSE, *_choices(givable, role_choice_label)]
        self.fields["teams"].choices = _choices(teams)
        for row in range(1, GRANT_ROWS + 1):
            offered = forms.Select(choices=[("", "No site"), *sites])
            self.fields[f"site_{row}"] = forms.CharField(
                label=f"Site {row}", required=False, max_length=20, widget=offered
            )
            self.fields[f"site_role_{row}"] = forms.TypedChoiceField(
                label=f"Site role {row}",
                coerce=int,
                required=False,
                choices=[CHOOSE, *_choices(site_roles, role_choice_label)],
            )

    def _posted_sites(self, cleaned) -> dict[int, object]:
        """{id: site} of the sites the rows name, looked up among the candidates (one query);
        a row naming anything else gets the field's error."""
        wanted = {row: id_from(cleaned.get(f"site_{row}")) for row in range(1, GRANT_ROWS + 1)}
        for row, pk in wanted.items():
            if cleaned.get(f"site_{row}") and pk is None:
                self.add_error(f"site_{row}", SITE_NOT_OFFERED)
        ids = {pk for pk in wanted.values() if pk is not None}
        found = {site.pk: site for site in self._site_candidates.filter(pk__in=ids)} if ids else {}
        for row, pk in wanted.items():
            if pk is not None and pk not in found:
                self.add_error(f"site_{row}", SITE_NOT_OFFERED)
            elif pk is not None:  # shown again as chosen, even when the picker does not offer it
                widget = self.fields[f"site_{row}"].widget
                if str(pk) not in {str(value) for value, _ in widget.choices}:
                    widget.choices = [*widget.choices, (str(pk), found[pk].name)]
        return {pk: found[pk] for pk in wanted.values() if pk in found}

    def grant_rows(self):
        """(site field, site role field) pairs, for the template."""
        return [(self[f"site_{row}"], self[f"site_role_{row}"]) for row in range(1, GRANT_ROWS + 1)]

    def clean_emails(self) -> list[str]:
        addresses = split_addresses(self.cleaned_data["emails"])
        if not addresses:
            raise ValidationError("Enter at least one e-mail address.")
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            listed = ", ".join(f"“{address}”" for address in bad)
            noun = "is not a valid e-mail address" if len(bad) == 1 else "are not valid e-mail addresses"
            raise ValidationError(f"{listed} {noun}. Nobody was invited.")
        return addresses

    def clean(self):
        cleaned = super().clean()
        sites = self._posted_sites(cleaned)
        grants, seen = [], set()
        for row in range(1, GRANT_ROWS + 1):
            if f"site_{row}" in self.errors:
                continue
            site_id, role_id = id_from(cleaned.get(f"site_{row}")), cleaned.get(f"site_role_{row}")
            if site_id is None and role_id in (None, ""):
                continue
            if site_id is None:
                self.add_error(f"site_{row}", "Choose the site this role is for.")
                continue
            site = sites[site_id]
            if role_id in (None, ""):
                self.add_error(f"site_role_{row}", f"Choose a role on {site}.")
                continue
            if site_id in seen:
                self.add_error(f"site_{row}", f"{site} is chosen more than once.")
                continue
            seen.add(site_id)
            grants.append((site, self._by_id["site_role"][role_id]))
        cleaned["site_grants"] = grants
        if cleaned.get("role") is not None:
            cleaned["role"] = self._by_id["role"][cleaned["role"]]
        cleaned["teams"] = [self._by_id["team"][pk] for pk in cleaned.get("teams") or ()]
        return cleaned


def _members_of(workspace: Workspace, *, excluding: Membership | None = None):
    members = Membership.objects.filter(workspace=workspace).select_related("user", "role")
    return members.exclude(pk=excluding.pk) if excluding is not None else members


class RoleChangeForm(forms.Form):
    role = RoleChoiceField(
        scope=catalog.WORKSPACE, error_messages={"invalid_choice": "Choose one of this workspace's roles."}
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles_of(workspace, catalog.WORKSPACE).prefetch_related(None)


def _member_by_email(workspace: Workspace, email: str, *, excluding: Membership) -> Membership | None:
    """The other member of ``workspace`` with that address (one query), or None."""
    address = normalize_email(email)
    if not address:
        return None
    return _members_of(workspace, excluding=excluding).filter(user__email__iexact=address).first()


class SuccessorForm(forms.Form):
    """Who owns the leaving member's sites from now on (needed only when they own some): a member
    named by e-mail address (the page's field, one input whatever the number of members) or by id."""

    successor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        error_messages={"invalid_choice": "Choose a member of this workspace to own the sites."},
    )
    successor_email = forms.CharField(required=False, max_length=254)

    def __init__(self, *args, workspace: Workspace, leaving: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.leaving = workspace, leaving
        self.fields["successor"].queryset = _members_of(workspace, excluding=leaving)

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("successor_email")
        if email and cleaned.get("successor") is None and "successor" not in self.errors:
            cleaned["successor"] = _member_by_email(self.workspace, email, excluding=self.leaving)
            if cleaned["successor"] is None:
                self.add_error("successor", "No other member of this workspace has that e-mail address.")
        return cleaned


class TransferForm(forms.Form):
    """The new owner, named by e-mail address (``to_email``, the page's field) or by id (``to``)."""

    to = forms.ModelChoiceField(
        label="New owner",
        queryset=None,
        required=False,
        error_messages={"invalid_choice": "Choose another member of this workspace."},
    )
    to_email = forms.CharField(label="New owner (e-mail address)", required=False, max_length=254)
    step_down = forms.BooleanField(label="Step down to Admin", required=False)

    def __init__(self, *args, workspace: Workspace, actor_membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.actor_membership = workspace, actor_membership
        # Owners are never offered: making an owner an owner changes nothing (the service refuses it).
        self.fields["to"].queryset = _members_of(workspace, excluding=actor_membership).exclude(
            role__builtin=True, role__key=catalog.OWNER
        )

    def clean(self):
        cleaned = super().clean()
        if "to" in self.errors:
            return cleaned
        if cleaned.get("to") is None:
            email = cleaned.get("to_email")
            if not email:
                self.add_error("to", "Choose the member who becomes an owner.")
            else:
                cleaned["to"] = _member_by_email(self.workspace, email, excluding=self.actor_membership)
                if cleaned["to"] is None:
                    self.add_error("to", "No other member of this workspace has that e-mail address.")
                elif cleaned["to"].role.is_owner:
                    self.add_error("to", f"{cleaned['to'].user.email} is already an owner of {self.workspace}.")
        return cleaned


class InviteSignupForm(SignupForm):
    """Sign-up on the invitation page: the address is the invited one and cannot be changed."""

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.disabled = True  # the posted value is ignored; the invitation's address is used
        field.initial = email
        field.help_text = "The address this invitation was sent to."
