"""The access explainer, mounted at /w/<workspace_slug>/explain/ (namespace "explain"): ``index``
explains anyone (oneself for most), ``mine`` is "My access", oneself for every member."""

from django.urls import path

from workspaces.explain import views

app_name = "explain"

urlpatterns = [
    path("", views.ExplainView.as_view(), name="index"),
    path("me/", views.MyAccessView.as_view(), name="mine"),
]
