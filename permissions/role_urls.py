"""Roles pages, mounted at /w/<workspace_slug>/roles/."""

from django.urls import path

from . import views_roles

app_name = "roles"
urlpatterns = [
    path("", views_roles.RoleListView.as_view(), name="index"),
    path("matrix/", views_roles.RoleMatrixView.as_view(), name="matrix"),
    path("new/", views_roles.RoleCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views_roles.RoleEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views_roles.RoleDeleteView.as_view(), name="delete"),
    path("presets/load/", views_roles.PresetLoadView.as_view(), name="load_preset"),
]
