"""Public pages of published experiences, under /p/ (no sign-in needed; see views_public).

An experience is addressed by its unguessable public token, never by its sequential id: /p/1/ is a 404."""

from django.urls import path

from workspaces.public import views

app_name = "public"
urlpatterns = [
    path("<slug:public_token>/", views.experience_page, name="experience"),
    path("<slug:public_token>/access/<str:token>/", views.link_page, name="link"),
]
