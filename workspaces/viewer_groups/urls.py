"""Viewer groups of a workspace, under /w/<slug>/viewer-groups/."""

from django.urls import path

from workspaces.viewer_groups import views

app_name = "viewer_groups"
urlpatterns = [
    path("", views.ViewerGroupListView.as_view(), name="index"),
    path("<int:group_pk>/", views.ViewerGroupDetailView.as_view(), name="detail"),
    path("<int:group_pk>/rename/", views.ViewerGroupRenameView.as_view(), name="rename"),
    path("<int:group_pk>/delete/", views.ViewerGroupDeleteView.as_view(), name="delete"),
    path(
        "<int:group_pk>/addresses/<int:member_pk>/remove/",
        views.ViewerGroupMemberRemoveView.as_view(),
        name="member_remove",
    ),
]
