"""Join-domain pages, mounted at /w/<workspace_slug>/settings/join-domains/."""

from django.urls import path

from workspaces.joining import views_domains

app_name = "join_domains"
urlpatterns = [
    path("", views_domains.JoinDomainListView.as_view(), name="index"),
    path("<int:pk>/", views_domains.JoinDomainDetailView.as_view(), name="detail"),
    path("<int:pk>/verify/", views_domains.JoinDomainVerifyView.as_view(), name="verify"),
    path("<int:pk>/remove/", views_domains.JoinDomainRemoveView.as_view(), name="remove"),
]
