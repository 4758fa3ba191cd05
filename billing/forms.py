"""Forms of the billing pages. Plain forms: they check the input; the services check the rules
and write (see workspaces/forms.py for why not ModelForms)."""

from __future__ import annotations

from django import forms

from .plans import Plan, all_plans
from .services import REASON_MAX


def plan_label(plan: Plan) -> str:
    return f"{plan.name} — {plan.monthly_price} {plan.currency} a month"


class PlanChangeForm(forms.Form):
    plan = forms.ChoiceField(label="Plan", widget=forms.RadioSelect, error_messages={"required": "Choose a plan."})
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Helps our staff with a downgrade.",
    )
    # Set by the confirmation step's form: a change to a paid plan is shown with its price first.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan.key, plan_label(plan)) for plan in all_plans()]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling? (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BillingDetailsForm(forms.Form):
    company_name = forms.CharField(label="Company name", max_length=200, required=False)
    address = forms.CharField(
        label="Billing address", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    vat_id = forms.CharField(
        label="VAT id",
        max_length=30,
        required=False,
        help_text="With its country prefix, e.g. DE123456789. Leave empty if you have none.",
    )

    @classmethod
    def initial_from(cls, account) -> dict:
        return {"company_name": account.company_name, "address": account.address, "vat_id": account.vat_id}


class ContactForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        error_messages={"required": "Enter an e-mail address.", "invalid": "Enter a valid e-mail address."},
    )
