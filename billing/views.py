"""The billing pages (docs/RULES.md 4.7, settings: plan, billing e-mails, downgrade or cancellation
requests, invoices), under /w/<workspace_slug>/billing/.

Every page needs ``manage_billing`` (403 for a member without it, 404 for outsiders); the
services check it again on every write. Ids in URLs are looked up inside the URL's workspace.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmFormMixin, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin
from workspaces.selectors import workspace_contents

from . import selectors
from .forms import BillingDetailsForm, CancelForm, ContactForm, PlanChangeForm
from .limits import usage_rows
from .plans import all_plans, default_plan, plan_or_unknown
from .services import billing_contact_add, billing_contact_remove, billing_details_update, plan_cancel, plan_change


class BillingMixin(WorkspaceMixin):
    required_capability = "manage_billing"

    def index_url(self) -> str:
        return reverse("billing:index", args=[self.workspace.slug])

    def refuse(self, exc: RuleViolation):
        messages.error(self.request, " ".join(exc.messages))


def _with_plan_names(plan_requests) -> list:
    """The requests, each with ``from_name`` and ``to_name``: the plans' names, not their keys."""
    rows = list(plan_requests)
    for row in rows:
        row.from_name = plan_or_unknown(row.from_plan).name
        row.to_name = plan_or_unknown(row.to_plan).name if row.to_plan else ""
    return rows


class BillingIndexView(BillingMixin, TemplateView):
    template_name = "billing/index.html"

    def get_context_data(self, **kwargs):
        account = selectors.billing_account(self.workspace)
        plan = plan_or_unknown(account.plan)
        kwargs.setdefault("contact_form", ContactForm())
        usage = usage_rows(plan, workspace_contents(self.workspace))
        counted = {row.label for row in usage}
        return super().get_context_data(
            account=account,
            plan=plan,
            usage=usage,
            other_limits=[(label, value) for label, value in plan.limit_rows if label not in counted],
            can_cancel=account.plan != default_plan().key,
            contacts=list(selectors.billing_contacts(self.workspace)),
            open_requests=_with_plan_names(selectors.open_requests(self.workspace)),
            recent_changes=_with_plan_names(selectors.recent_plan_changes(self.workspace)),
            invoices=list(selectors.invoices_of(self.workspace)),
            **kwargs,
        )


class PlanChangeView(ConfirmFormMixin, BillingMixin, FormView):
    """A valid choice is confirmed first, with both prices: a bigger plan costs more at once."""

    template_name = "billing/plan_form.html"
    form_class = PlanChangeForm

    def confirmation(self) -> Confirmation | None:
        current = plan_or_unknown(selectors.billing_account(self.workspace).plan)
        chosen = plan_or_unknown(self.confirming_form.cleaned_data["plan"])
        if chosen.key == current.key:
            return None  # nothing changes; the view says so
        prices = (
            f"{current.name} costs {current.monthly_price} {current.currency} a month; "
            f"{chosen.name} costs {chosen.monthly_price} {chosen.currency} a month."
        )
        if chosen.rank > current.rank:
            return Confirmation(
                title=f"Move to the {chosen.name} plan for {chosen.monthly_price} {chosen.currency} a month?",
                button=f"Pay {chosen.monthly_price} {chosen.currency} a month for {chosen.name}",
                cancel_url=self.index_url(),
                consequences=[
                    prices,
                    f"The change takes effect at once: {self.workspace} is billed for {chosen.name} from now on.",
                ],
                costly=True,
            )
        return Confirmation(
            title=f"Ask to move down to the {chosen.name} plan?",
            button=f"Send the request for {chosen.name}",
            cancel_url=self.index_url(),
            consequences=[
                prices,
                "Nothing changes yet: the request goes to your billing contacts and our staff, who carry it out. "
                f"{chosen.name}'s limits then apply.",
            ],
            costly=True,
        )

    def get_initial(self):
        return {"plan": selectors.billing_account(self.workspace).plan}

    def get_context_data(self, **kwargs):
        account = selectors.billing_account(self.workspace)
        return super().get_context_data(plans=all_plans(), current=plan_or_unknown(account.plan), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            change = plan_change(
                actor=self.request.user, workspace=self.workspace, plan_key=data["plan"], reason=data["reason"]
            )
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        if change is None:
            messages.info(self.request, "That is already your plan: nothing changed.")
        elif change.kind == change.Kind.UPGRADE:
            messages.success(self.request, f"You are now on the {plan_or_unknown(change.to_plan).name} plan.")
        else:
            messages.success(
                self.request,
                f"Your request to move to the {plan_or_unknown(change.to_plan).name} plan is recorded and sent to "
                "your billing contacts. Our staff will handle it; until then your plan stays as it is.",
            )
        return redirect(self.index_url())


class CancelView(BillingMixin, FormView):
    """GET explains and asks for a reason; only the POST files the request. The first plan costs
    nothing, so there is nothing to cancel on it: the page sends back to billing."""

    template_name = "billing/cancel_form.html"
    form_class = CancelForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.access.require(self.required_capability, self.workspace)
            if selectors.billing_account(self.workspace).plan == default_plan().key:
                messages.info(
                    request, f"The workspace is on the {default_plan().name} plan: there is nothing to cancel."
                )
                return redirect(self.index_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        account = selectors.billing_account(self.workspace)
        return super().get_context_data(current=plan_or_unknown(account.plan), fallback=default_plan(), **kwargs)

    def form_valid(self, form):
        try:
            plan_cancel(actor=self.request.user, workspace=self.workspace, reason=form.cleaned_data["reason"])
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(
            self.request,
            "Your cancellation request is recorded and sent to your billing contacts. Our staff will handle it.",
        )
        return redirect(self.index_url())


class DetailsView(BillingMixin, FormView):
    template_name = "billing/details_form.html"
    form_class = BillingDetailsForm

    def get_initial(self):
        return BillingDetailsForm.initial_from(selectors.billing_account(self.workspace))

    def form_valid(self, form):
        try:
            billing_details_update(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, "The billing details are saved.")
        return redirect(self.index_url())


class ContactAddView(BillingIndexView):
    """Adds a billing e-mail address; bad input shows the billing page again with the message."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact = billing_contact_add(
                    actor=request.user, workspace=self.workspace, email=form.cleaned_data["email"]
                )
            except RuleViolation as exc:
                form.add_error("email", exc.messages)
            else:
                messages.success(request, f"{contact.email} now receives the billing e-mails.")
                return redirect(self.index_url())
        return self.render_to_response(self.get_context_data(contact_form=form))


class ContactRemoveView(ConfirmMixin, BillingMixin, ContextMixin, View):
    @cached_property
    def contact(self):
        contact = selectors.contact_in(self.workspace, self.kwargs["contact_pk"])
        if contact is None:
            raise Http404("No such billing contact.")
        return contact

    def confirmation(self) -> Confirmation:
        email = self.contact.email
        return Confirmation(
            title=f"Stop sending the billing e-mails to {email}?",
            button=f"Remove {email}",
            cancel_url=self.index_url(),
            consequences=[
                f"{email} no longer receives the invoices and the e-mails about plan changes of {self.workspace}.",
                "You can add the address again on the billing page.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        contact = self.contact
        billing_contact_remove(actor=request.user, contact=contact)
        messages.success(request, f"{contact.email} no longer receives the billing e-mails.")
        return redirect(self.index_url())
