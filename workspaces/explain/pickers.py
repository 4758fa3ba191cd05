"""The explainer's two pickers (``kernel.pickers``): the member asked about, and the place — the
workspace itself, or a site or experience found by name — with the values its GET form sends
(``member=<id>``, ``target=workspace|site:<id>|experience:<id>``) and their scoped lookups.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kernel.pickers import Choice, Search
from workspaces.explain.selectors import find_experiences
from workspaces.models import Experience, Site
from workspaces.pickers.forms import id_from
from workspaces.pickers.selectors import find_sites, picked

WORKSPACE = "workspace"
WORKSPACE_CHOICE = Choice(WORKSPACE, "The workspace itself")


def site_choice(site: Site) -> Choice:
    return Choice(f"site:{site.pk}", site.name, f"site, {site.url or site.slug}")


def experience_choice(experience: Experience) -> Choice:
    return Choice(f"experience:{experience.pk}", experience.title, "experience")


def place_search(sites: QuerySet[Site], experiences: QuerySet[Experience]) -> Search:
    """The workspace itself, then sites and experiences by name (two queries); when both are many,
    experiences take at most half of the places."""

    def search(text: str, limit: int) -> list[Choice]:
        room = limit - 1  # after the workspace itself
        found_sites = find_sites(sites, text, room)
        found_experiences = find_experiences(experiences, text, room)
        room_for_experiences = max(room - len(found_sites), room // 2)
        shown_sites = found_sites[: room - min(len(found_experiences), room_for_experiences)]
        return (
            [WORKSPACE_CHOICE]
            + [site_choice(site) for site in shown_sites]
            + [experience_choice(e) for e in found_experiences[:room_for_experiences]]
        )

    return search


def place_from(value: str, sites: QuerySet[Site], experiences: QuerySet[Experience]) -> Site | Experience | None:
    """The site or experience ``site:<id>`` / ``experience:<id>`` names among the candidates (one
    query), or None: anything else, another workspace's included."""
    kind, _, raw_id = value.partition(":")
    candidates = {"site": sites, "experience": experiences}.get(kind)
    pk = id_from(raw_id)
    if candidates is None or pk is None:
        return None
    return picked(candidates, pk)
