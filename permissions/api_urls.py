"""The check API's routes; ``portal.urls`` mounts them at /api/v1/ together with the other apps'
read APIs, under the one namespace "api" (docs/RULES.md 5.1)."""

from django.urls import path

from . import api

urlpatterns = [
    path("check", api.check, name="check"),
    path("members/<str:email>/permissions", api.member_permissions_view, name="member_permissions"),
]
