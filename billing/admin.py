"""Billing in the admin: accounts, billing contacts, plan change requests, invoices.

Every save, delete and action calls ``billing.services`` (as the system) or ``billing.staff``, so
the rules and the audit log hold here as in the browser. Plan requests are handled by actions
(done or declined, with a note); invoices are created here and then only change status.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from kernel.admin import AUDIT_NOTE, ServiceAdmin, action_page, apply_all

from .forms import plan_label
from .models import BillingAccount, BillingContact, Invoice, PlanChangeRequest
from .plans import all_plans, plan_or_unknown
from .services import billing_contact_add, billing_contact_remove, billing_details_update
from .staff import invoice_create, invoice_set_status, plan_request_handle, plan_set


class PlanFilter(admin.SimpleListFilter):
    title = "plan"
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return [(plan.key, plan.name) for plan in all_plans()]

    def queryset(self, request, queryset):
        return queryset.filter(plan=self.value()) if self.value() else queryset


# --- accounts --------------------------------------------------------------------------------------


class BillingAccountForm(forms.ModelForm):
    plan = forms.ChoiceField(help_text="Changes at once, without a request.")

    class Meta:
        model = BillingAccount
        fields = ("workspace", "plan", "company_name", "address", "vat_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(plan.key, plan_label(plan)) for plan in all_plans()]
        if self.instance.plan and self.instance.plan not in dict(choices):
            choices.append((self.instance.plan, f"{self.instance.plan} (no longer in the catalogue)"))
        self.fields["plan"].choices = choices


@admin.register(BillingAccount)
class BillingAccountAdmin(ServiceAdmin):
    form = BillingAccountForm
    list_display = ("workspace", "plan_name", "company_name", "vat_id", "updated_at")
    list_select_related = ("workspace",)
    search_fields = ("workspace__name", "workspace__slug", "company_name", "vat_id")
    list_filter = (PlanFilter, "updated_at")
    autocomplete_fields = ("workspace",)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("workspace", "created_at", "updated_at")

    @admin.display(description="plan", ordering="plan")
    def plan_name(self, account):
        return plan_or_unknown(account.plan).name

    def has_delete_permission(self, request, obj=None):
        return False  # the workspace's plan goes with the workspace

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        workspace = data["workspace"] if not change else obj.workspace
        if not change or "plan" in form.changed_data:
            plan_set(workspace=workspace, plan_key=data["plan"], actor=request.user)
        details = {name: data[name] for name in ("company_name", "address", "vat_id")}
        account = billing_details_update(actor=None, workspace=workspace, **details)
        obj.pk, obj._state.adding = account.pk, False


# --- contacts --------------------------------------------------------------------------------------


@admin.register(BillingContact)
class BillingContactAdmin(ServiceAdmin):
    list_display = ("email", "workspace", "added_by", "created_at")
    list_select_related = ("workspace", "added_by")
    search_fields = ("email", "workspace__name", "workspace__slug")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    autocomplete_fields = ("workspace",)
    fields = ("workspace", "email")

    def has_change_permission(self, request, obj=None):
        return False  # remove the address and add the new one

    def save_model(self, request, obj, form, change):
        contact = billing_contact_add(actor=None, workspace=form.cleaned_data["workspace"], email=obj.email)
        obj.pk, obj._state.adding = contact.pk, False

    def delete_model(self, request, obj):
        billing_contact_remove(actor=None, contact=obj)


# --- plan change requests --------------------------------------------------------------------------


class HandleForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mailed to the billing contacts.",
    )


@admin.register(PlanChangeRequest)
class PlanChangeRequestAdmin(ServiceAdmin):
    list_display = ("__str__", "workspace", "kind", "change", "status", "requested_by", "created_at", "handled_at")
    list_select_related = ("workspace", "requested_by")
    search_fields = ("workspace__name", "workspace__slug", "requested_by__email", "reason")
    list_filter = ("status", "kind", ("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    fields = (
        "workspace",
        "kind",
        "change",
        "reason",
        "requested_by",
        "created_at",
        "status",
        "handled_by",
        "handled_at",
        "note",
    )
    actions = ("mark_done", "mark_declined")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="change")
    def change(self, plan_request):
        from_name = plan_or_unknown(plan_request.from_plan).name
        return f"{from_name} → {plan_or_unknown(plan_request.to_plan).name if plan_request.to_plan else 'cancelled'}"

    def _handle(self, request, queryset, status: str, *, title: str, submit: str):
        queryset = queryset.select_related("workspace")
        form = HandleForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            note = form.cleaned_data["note"]
            done = apply_all(
                queryset,
                lambda pr: plan_request_handle(plan_request=pr, status=status, note=note, actor=request.user),
            )
            for plan_request in queryset:
                self.log_action(request, plan_request, f"Marked {status}.")
            self.message_user(request, f"Marked {done} request(s) {status}. {AUDIT_NOTE}")
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            title=title,
            intro="The billing contacts get an e-mail with the outcome and your note.",
            items=[f"{pr} — {pr.workspace}: {self.change(pr)}" for pr in queryset],
            submit=submit,
        )

    @admin.action(description="Mark done (carry out the downgrade or cancellation)")
    def mark_done(self, request, queryset):
        return self._handle(
            request, queryset, PlanChangeRequest.Status.DONE, title="Carry out the requests", submit="Mark done"
        )

    @admin.action(description="Mark declined (the plan stays)")
    def mark_declined(self, request, queryset):
        return self._handle(
            request, queryset, PlanChangeRequest.Status.DECLINED, title="Decline the requests", submit="Mark declined"
        )


# --- invoices --------------------------------------------------------------------------------------


@admin.register(Invoice)
class InvoiceAdmin(ServiceAdmin):
    list_display = ("number", "workspace", "period_start", "period_end", "amount", "currency", "status", "issued_at")
    list_select_related = ("workspace",)
    search_fields = ("number", "workspace__name", "workspace__slug")
    list_filter = ("status", "currency", ("workspace", admin.RelatedOnlyFieldListFilter), "issued_at")
    date_hierarchy = "issued_at"
    autocomplete_fields = ("workspace",)
    actions = ("mark_paid", "mark_void")

    def get_fields(self, request, obj=None):
        fields = ("workspace", "number", "period_start", "period_end", "amount", "currency", "status", "issued_at")
        return fields if obj is None else fields + ("created_by",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("workspace", "number", "period_start", "period_end", "amount", "currency", "issued_at", "created_by")

    def has_delete_permission(self, request, obj=None):
        return False  # an issued invoice is voided, never deleted

    def save_model(self, request, obj, form, change):
        if change:
            if "status" in form.changed_data:
                invoice_set_status(invoice=obj, status=form.cleaned_data["status"], actor=request.user)
            return
        data = form.cleaned_data
        created = invoice_create(
            workspace=data["workspace"],
            number=data["number"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            issued_at=data["issued_at"],
            actor=request.user,
        )
        obj.pk, obj._state.adding = created.pk, False

    def _set_status(self, request, queryset, status: str) -> None:
        done = apply_all(
            queryset, lambda invoice: invoice_set_status(invoice=invoice, status=status, actor=request.user)
        )
        for invoice in queryset:
            self.log_action(request, invoice, f"Marked {status}.")
        self.message_user(request, f"Marked {done} invoice(s) {status}. {AUDIT_NOTE}")

    @admin.action(description="Mark paid")
    def mark_paid(self, request, queryset):
        self._set_status(request, queryset, Invoice.Status.PAID)

    @admin.action(description="Mark void")
    def mark_void(self, request, queryset):
        self._set_status(request, queryset, Invoice.Status.VOID)
