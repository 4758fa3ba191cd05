"""The usage page, mounted at /w/<workspace_slug>/usage/ (namespace "usage")."""

from django.urls import path

from workspaces.usage import views

app_name = "usage"

urlpatterns = [
    path("", views.UsageView.as_view(), name="index"),
]
