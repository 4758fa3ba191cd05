"""Collaborators of one experience, under /w/<slug>/experiences/<experience_pk>/collaborators/."""

from django.urls import path

from workspaces.experiences import views_collaborators as views

app_name = "collaborators"
urlpatterns = [
    path("", views.CollaboratorListView.as_view(), name="index"),
    path("add/", views.CollaboratorAddView.as_view(), name="add"),
    path("<int:collaborator_pk>/remove/", views.CollaboratorRemoveView.as_view(), name="remove"),
]
