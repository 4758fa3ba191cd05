"""What the portal's admin classes share.

Staff write through the same domain services as the browser (docs/RULES.md, rule 7), so the rules
and the audit log hold in the admin too. The staff member is the actor of every audit event an
admin write leaves: services that take staff (accounts, billing and privacy requests, two-factor
resets) get ``actor=request.user``; the workspace services, whose capability checks are for
members and staff are not members, are called as the system (``actor=None``) inside
``staff_acting(request.user)``, which names the staff member on their events. A change the rules
refuse shows the rule's message and is rolled back: nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import User
from audit.context import staff_acting
from kernel.errors import RuleViolation
from workspaces.models import Membership

AUDIT_NOTE = "Recorded in the audit log under your name."


def refuse(request, exc: RuleViolation) -> None:
    for message in exc.messages:
        messages.error(request, message)


def apply_all(objects: Iterable, change: Callable) -> int:
    """Apply ``change`` to every object, all or nothing.

    Each object gets its own savepoint so every refusal is collected and reported at once; if any
    was refused, the whole batch is rolled back (rule 8: bad input changes nothing).
    """
    problems: list[str] = []
    done = 0
    with transaction.atomic():
        for obj in objects:
            try:
                with transaction.atomic():
                    change(obj)
                done += 1
            except RuleViolation as exc:
                problems.extend(exc.messages)
        if problems:
            raise RuleViolation(problems)
    return done


def admin_url(model, view: str = "changelist", *args, **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    if filters:
        url += "?" + "&".join(f"{key}={value}" for key, value in filters.items())
    return url


def link(obj, text=None) -> str:
    if obj is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_url(type(obj), "change", obj.pk), text or obj)


def count_of(model, fk: str = "workspace", **filters):
    """A correlated COUNT subquery: counts several relations in one query without multiplying rows."""
    rows = model.objects.filter(**{fk: OuterRef("pk")}, **filters).order_by().values(fk)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))


def html_list(items: Iterable[tuple[str, str]]) -> str:
    """An HTML list of links from (text, url) pairs."""
    return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', ((u, t) for t, u in items)))


# --- people ------------------------------------------------------------------------------------


def person_field(label: str = "Person", *, required: bool = True, help_text: str = "") -> forms.ModelChoiceField:
    """Choose a person by e-mail address (autocomplete over accounts).

    Memberships are picked through their person: staff know people by address, and the form then
    finds that person's membership in the workspace concerned (``membership_of``).
    """
    return forms.ModelChoiceField(
        queryset=User.objects.all(),
        label=label,
        required=required,
        help_text=help_text,
        widget=AutocompleteSelect(Membership._meta.get_field("user"), admin.site),
    )


def membership_of(person: User, workspace_id: int, workspace_name="this workspace") -> Membership:
    membership = (
        Membership.objects.select_related("user", "role", "workspace")
        .filter(workspace_id=workspace_id, user=person)
        .first()
    )
    if membership is None:
        raise forms.ValidationError(f"{person.email} is not a member of {workspace_name}.")
    return membership


class PersonLinkForm(forms.ModelForm):
    """A row linking one person to a parent in a workspace (a team, an experience).

    The person must be a member of the parent's workspace; ``cleaned_data["membership"]`` is their
    membership, which the link services take. Subclasses name the parent in ``parent_field``.
    """

    parent_field = ""

    def clean(self):
        data = super().clean()
        parent, person = data.get(self.parent_field), data.get("person")
        if parent is not None and person is not None:
            data["membership"] = membership_of(person, parent.workspace_id, parent.workspace.name)
        return data


# --- model admins ------------------------------------------------------------------------------


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes go through the services.

    Subclasses implement ``save_model`` / ``delete_model`` (and ``save_formset`` for their inlines)
    with service calls. Many-to-many fields and child rows belong to the services, so the form's
    ``save_m2m`` never runs. A ``RuleViolation`` anywhere in a save, a delete or an action rolls the
    request's transaction back and shows its message.
    """

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        # Read-only inlines: nothing to write. Django's change message reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_queryset(self, request, queryset):
        apply_all(queryset, lambda obj: self.delete_model(request, obj))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with staff_acting(request.user):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleViolation as exc:  # raised inside the view's transaction, now rolled back
            refuse(request, exc)
            return redirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with staff_acting(request.user):
                return super().delete_view(request, object_id, extra_context)
        except RuleViolation as exc:
            refuse(request, exc)
            return redirect(admin_url(self.model, "change", object_id))

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        # Django runs actions outside a transaction; ours are all or nothing.
        try:
            with transaction.atomic(), staff_acting(request.user):
                return super().changelist_view(request, extra_context)
        except RuleViolation as exc:
            refuse(request, exc)
            return redirect(request.get_full_path())

    def get_deleted_objects(self, objs, request):
        # The delete services decide what may go (they refuse with a message), and they remove the
        # derived rows (guardian, groups) that staff have no delete permission on.
        deleted, model_count, _perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), []

    def log_action(self, request, obj, message: str) -> None:
        """Django's admin history of an action: it names the staff member who acted."""
        self.log_change(request, obj, message)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived or append-only rows: staff may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceInline(admin.TabularInline):
    """Existing rows are read-only (and deletable); new rows are added through a service.

    The owning admin's ``save_formset`` calls the services; forms receive the parent object as
    ``parent`` so their choices can be limited to its workspace.
    """

    extra = 1
    show_change_link = True

    def has_change_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class WithParent(formset):
            def get_form_kwargs(self, index):
                return {**super().get_form_kwargs(index), "parent": self.instance}

        return WithParent


class ParentForm(forms.ModelForm):
    """An inline form that knows its parent object (see ``ServiceInline``)."""

    def __init__(self, *args, parent=None, **kwargs):
        self.parent = parent
        super().__init__(*args, **kwargs)

    @property
    def adding(self) -> bool:
        return self.instance._state.adding


def new_and_deleted(formset):
    """(forms of new rows to add, instances to delete) of a submitted ``ServiceInline`` formset.

    Also fills the lists Django's change message reads, since ``formset.save()`` never runs.
    """
    deleted_forms = formset.deleted_forms
    deleted = [form.instance for form in deleted_forms if not form.instance._state.adding]
    new = [form for form in formset.extra_forms if form.has_changed() and form not in deleted_forms]
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], deleted
    return new, deleted


# --- actions with an intermediate page -----------------------------------------------------------


def action_page(modeladmin, request, queryset, *, form, title: str, intro: str, items: list[str], submit: str):
    """The intermediate page of an action: the chosen objects, a form, and Apply.

    Re-posts the selection so Django routes the second POST back to the same action.
    """
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "items": items,
        "form": form,
        "submit": submit,
        "opts": opts,
        "app_label": opts.app_label,
        "action": request.POST.get("action", ""),
        "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/portal/action_form.html", context)
