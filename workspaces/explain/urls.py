"""The access explainer, mounted at /w/<workspace_slug>/explain/ (namespace "explain")."""

from django.urls import path

from workspaces.explain import views

app_name = "explain"

urlpatterns = [
    path("", views.ExplainView.as_view(), name="index"),
]
