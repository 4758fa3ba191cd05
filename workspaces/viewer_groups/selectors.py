"""Reads of viewer groups. They change nothing; the writes are in ``workspaces.viewer_groups.services``."""

from __future__ import annotations

from django.db.models import Count

from workspaces.models import Experience, ViewerGroup


def experiences_needing(group: ViewerGroup) -> list[Experience]:
    """Published restricted experiences whose ONLY viewer group is ``group``.

    Deleting the group would leave them open to nobody, which publishing itself refuses.
    """
    using = group.experiences.filter(
        status=Experience.Status.PUBLISHED, visibility=Experience.Visibility.RESTRICTED
    ).values("pk")
    # Counted in a second step: counting on the join that selects by this group would count 1.
    return list(
        Experience.objects.filter(pk__in=using)
        .annotate(groups=Count("viewer_groups"))
        .filter(groups=1)
        .order_by("title")
    )
