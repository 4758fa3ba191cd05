"""Reads for the data & privacy pages, each one query whatever the number of requests."""

from __future__ import annotations

from django.db.models import QuerySet

from workspaces.models import Workspace

from .models import DataRequest


def data_requests(workspace: Workspace, *, filed_by=None) -> QuerySet[DataRequest]:
    """The workspace's requests, newest first, with site and requester; only ``filed_by``'s if given."""
    requests = DataRequest.objects.filter(workspace=workspace).select_related("site", "requested_by")
    if filed_by is not None:
        requests = requests.filter(requested_by=filed_by)
    return requests.order_by("-created_at", "-id")
