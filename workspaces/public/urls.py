"""Public pages of published experiences, under /p/ (no sign-in needed; see views_public)."""

from django.urls import path

from workspaces.public import views

app_name = "public"
urlpatterns = [
    path("<int:experience_pk>/", views.experience_page, name="experience"),
    path("<int:experience_pk>/access/<str:token>/", views.link_page, name="link"),
]
