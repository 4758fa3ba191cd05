"""Join requests, mounted at /w/<workspace_slug>/join-requests/."""

from django.urls import path

from workspaces.joining import views_requests as views_join_requests

app_name = "join_requests"
urlpatterns = [
    path("", views_join_requests.JoinRequestListView.as_view(), name="index"),
    path("<int:pk>/approve/", views_join_requests.JoinRequestApproveView.as_view(), name="approve"),
    path("<int:pk>/decline/", views_join_requests.JoinRequestDeclineView.as_view(), name="decline"),
]
