"""Reads of the public pages of published experiences."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from workspaces.models import Experience


def published_experience(public_token: str) -> Experience:
    """The published experience of a public link (404 otherwise), with its workspace."""
    return get_object_or_404(
        Experience.objects.select_related("workspace"), public_token=public_token, status=Experience.Status.PUBLISHED
    )
