"""Connection pages, at /w/<workspace_slug>/settings/sso/connections/ (namespace "sso")."""

from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("add/", views.ConnectionAddView.as_view(), name="add"),
    path("add-saml/", views.SamlConnectionAddView.as_view(), name="add_saml"),
    path("required/", views.RequirementView.as_view(), name="required"),
    path("<int:pk>/", views.ConnectionEditView.as_view(), name="edit"),
    path("<int:pk>/mapping/", views.ConnectionMappingView.as_view(), name="mapping"),
    path("<int:pk>/enabled/", views.ConnectionEnabledView.as_view(), name="enabled"),
    path("<int:pk>/remove/", views.ConnectionRemoveView.as_view(), name="remove"),
    path("<int:pk>/test/", views.ConnectionTestView.as_view(), name="test"),
    path("<int:pk>/test/result/", views.ConnectionTestResultView.as_view(), name="test_result"),
]
