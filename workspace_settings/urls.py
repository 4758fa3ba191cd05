"""Workspace settings pages, mounted at /w/<workspace_slug>/settings/ (namespace "settings").

Access keys and join domains live under the same prefix in their own apps' URL modules.
"""

from django.urls import path

from . import views

app_name = "settings"
urlpatterns = [
    path("", views.SettingsIndexView.as_view(), name="index"),
    path("details/", views.DetailsView.as_view(), name="details"),
    path("ip-blocking/", views.IPBlockingView.as_view(), name="ip_blocking"),
    path("ip-blocking/<int:pk>/remove/", views.IPRuleRemoveView.as_view(), name="ip_rule_remove"),
    path("integrations/", views.IntegrationListView.as_view(), name="integrations"),
    path("integrations/<slug:key>/", views.IntegrationView.as_view(), name="integration"),
    path("user-attributes/", views.UserAttributeListView.as_view(), name="user_attributes"),
    path("user-attributes/<slug:key>/", views.UserAttributeSetView.as_view(), name="user_attribute_set"),
    path("policies/", views.PolicyView.as_view(), name="policies"),
    path("session-capture/", views.SessionCaptureView.as_view(), name="session_capture"),
    path("session-capture/<slug:site_slug>/", views.SessionCaptureSetView.as_view(), name="session_capture_set"),
]
