"""Members' profiles for the platform's services; mounted at /api/v1/ by ``portal.urls``."""

from django.urls import path

from .api import member_profile_view

urlpatterns = [
    path("members/<str:email>", member_profile_view, name="member_profile"),
]
