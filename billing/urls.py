"""Billing pages, mounted at /w/<workspace_slug>/billing/ (namespace "billing")."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.BillingIndexView.as_view(), name="index"),
    path("plan/", views.PlanChangeView.as_view(), name="plan"),
    path("cancel/", views.CancelView.as_view(), name="cancel"),
    path("details/", views.DetailsView.as_view(), name="details"),
    path("contacts/", views.ContactAddView.as_view(), name="contact_add"),
    path("contacts/<int:contact_pk>/remove/", views.ContactRemoveView.as_view(), name="contact_remove"),
]
