"""The "Delete your account" page, at /accounts/close/ (linked from the profile page).

GET says what happens and, when the account cannot be deleted yet, why (the last owner of a
workspace, a site owner); the POST asks for the password and the typed word DELETE, and calls
``closing.account_close``, which checks everything again.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import FormView

from workspaces.overview.forms import TypedConfirmationForm
from workspaces.people.closing import account_close, close_refusals
from workspaces.selectors import memberships_of

CONFIRMATION_WORD = "DELETE"


class AccountCloseForm(TypedConfirmationForm):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, expected=CONFIRMATION_WORD, what="the confirmation word", **kwargs)


class AccountCloseView(FormView):
    template_name = "accounts/close.html"
    form_class = AccountCloseForm

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(refusals=close_refusals(user), memberships=list(memberships_of(user)), **kwargs)

    def form_valid(self, form):
        try:
            account_close(user=self.request.user, password=form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        logout(self.request)
        messages.success(self.request, "Your account is deleted. Thank you for using the portal.")
        return redirect("accounts:login")
