"""Data & privacy requests in the admin: staff carry them out and record how far they got.

Requests are filed by members in the browser (never added here) and never deleted; staff change
only the status and the note to the requester, through ``data_request_set_status`` (one audit event
per change), on the change page or with the actions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from kernel.admin import AUDIT_NOTE, ServiceAdmin, action_page, apply_all

from .models import DataRequest
from .services import data_request_set_status


class DataRequestForm(forms.ModelForm):
    class Meta:
        model = DataRequest
        fields = ("status", "staff_note")


class NoteForm(forms.Form):
    staff_note = forms.CharField(
        label="Note to the requester",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on their Data & privacy page. Leave empty to keep each request's note.",
    )


@admin.register(DataRequest)
class DataRequestAdmin(ServiceAdmin):
    form = DataRequestForm
    list_display = ("__str__", "workspace", "site_name", "kind", "status", "requested_by", "created_at", "handled_at")
    list_select_related = ("workspace", "requested_by")
    search_fields = ("subject", "site_name", "workspace__name", "workspace__slug", "requested_by__email")
    list_filter = ("status", "kind", ("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    date_hierarchy = "created_at"
    readonly_fields = (
        "workspace",
        "site",
        "site_name",
        "kind",
        "subject",
        "note",
        "requested_by",
        "created_at",
        "handled_by",
        "handled_at",
    )
    fields = readonly_fields[:8] + ("status", "staff_note") + readonly_fields[8:]
    actions = ("mark_in_progress", "mark_completed", "mark_rejected")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        data_request_set_status(
            data_request=obj, status=data["status"], staff_note=data["staff_note"], actor=request.user
        )

    def _mark(self, request, queryset, status: str):
        queryset = queryset.select_related("workspace")
        form = NoteForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            note = form.cleaned_data["staff_note"].strip() or None
            done = apply_all(
                queryset,
                lambda dr: data_request_set_status(data_request=dr, status=status, staff_note=note, actor=request.user),
            )
            for data_request in queryset:
                self.log_action(request, data_request, f"Marked {status}.")
            self.message_user(
                request, f"Marked {done} request(s) {DataRequest.Status(status).label.lower()}. {AUDIT_NOTE}"
            )
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            title=f"Mark requests {DataRequest.Status(status).label.lower()}",
            intro="Completed and rejected requests keep their status; the requester sees the new status at once.",
            items=[f"{dr} — {dr.workspace}, {dr.site_name} ({dr.get_status_display()})" for dr in queryset],
            submit="Apply",
        )

    @admin.action(description="Mark in progress")
    def mark_in_progress(self, request, queryset):
        return self._mark(request, queryset, DataRequest.Status.IN_PROGRESS)

    @admin.action(description="Mark completed")
    def mark_completed(self, request, queryset):
        return self._mark(request, queryset, DataRequest.Status.COMPLETED)

    @admin.action(description="Mark rejected")
    def mark_rejected(self, request, queryset):
        return self._mark(request, queryset, DataRequest.Status.REJECTED)
