"""Reads of webhook endpoints and their deliveries, always within one workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from workspaces.models import Workspace

from .models import Delivery, Endpoint


def workspace_endpoints(workspace: Workspace) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(workspace=workspace).order_by("created_at", "id")


def endpoint_in(workspace: Workspace, pk) -> Endpoint:
    """The endpoint ``pk`` of ``workspace``; 404 for another workspace's id."""
    return get_object_or_404(Endpoint.objects.select_related("workspace"), workspace=workspace, pk=pk)


def delivery_in(endpoint: Endpoint, pk) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("event", "endpoint__workspace"), endpoint=endpoint, pk=pk)


def endpoint_deliveries(endpoint: Endpoint) -> QuerySet[Delivery]:
    """Newest event first, with their attempts (prefetched)."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-event_id")
    )
