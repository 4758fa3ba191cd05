"""The check API, mounted at /api/v1/ (PRODUCT.md 8.1)."""

from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("check", api.check, name="check"),
    path("members/<str:email>/permissions", api.member_permissions_view, name="member_permissions"),
]
