"""Access-key pages, mounted at /w/<workspace_slug>/settings/access-keys/."""

from django.urls import path

from . import views_keys

app_name = "access_keys"
urlpatterns = [
    path("", views_keys.AccessKeyListView.as_view(), name="list"),
    path("new/", views_keys.AccessKeyCreateView.as_view(), name="create"),
    path("<int:pk>/revoke/", views_keys.AccessKeyRevokeView.as_view(), name="revoke"),
]
