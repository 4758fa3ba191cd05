"""Data & privacy pages, mounted at /w/<workspace_slug>/privacy/ (namespace "privacy")."""

from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.PrivacyIndexView.as_view(), name="index"),
    path("new/", views.DataRequestCreateView.as_view(), name="create"),
]
