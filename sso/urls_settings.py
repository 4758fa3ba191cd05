"""The single sign-on settings pages, at /w/<workspace_slug>/settings/sso/ (namespace "sso"): the
connections list and requirement (``index``), and each connection's pages under ``connections/``."""

from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("connections/add/", views.ConnectionAddView.as_view(), name="add"),
    path("connections/add-saml/", views.SamlConnectionAddView.as_view(), name="add_saml"),
    path("connections/required/", views.RequirementView.as_view(), name="required"),
    path("connections/<int:pk>/", views.ConnectionEditView.as_view(), name="edit"),
    path("connections/<int:pk>/mapping/", views.ConnectionMappingView.as_view(), name="mapping"),
    path("connections/<int:pk>/enabled/", views.ConnectionEnabledView.as_view(), name="enabled"),
    path("connections/<int:pk>/remove/", views.ConnectionRemoveView.as_view(), name="remove"),
    path("connections/<int:pk>/test/", views.ConnectionTestView.as_view(), name="test"),
    path("connections/<int:pk>/test/result/", views.ConnectionTestResultView.as_view(), name="test_result"),
]
