"""The activity page, mounted at /w/<workspace_slug>/activity/ (namespace "activity")."""

from django.urls import path

from . import views

app_name = "activity"
urlpatterns = [
    path("", views.ActivityView.as_view(), name="index"),
    path("export.csv", views.ActivityExportView.as_view(), name="export"),
]
