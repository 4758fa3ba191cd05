"""Webhook endpoint pages, mounted at /w/<workspace_slug>/settings/webhooks/."""

from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.EndpointListView.as_view(), name="list"),
    path("new/", views.EndpointCreateView.as_view(), name="create"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EndpointUpdateView.as_view(), name="edit"),
    path("<int:pk>/rotate/", views.EndpointRotateView.as_view(), name="rotate"),
    path("<int:pk>/remove/", views.EndpointRemoveView.as_view(), name="remove"),
    path("<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.RedeliverView.as_view(), name="redeliver"),
]
