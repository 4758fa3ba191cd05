"""Paged, searchable lists: one page of a list and its search text, both from the URL.

Every list that grows with a workspace (members, teams, a team's members, experiences, viewer
groups and their addresses, access keys, …) shows one page at a time through Django's Paginator:
a COUNT and one slice, so two queries whatever the size of the list. The page number and the search
text live in the URL, so a page can be shared and reloaded, and the links to the other pages keep
every other parameter (the search, another list's page). A page number or search text that does not
parse is never an error: ``?page=abc`` is the first page, ``?page=99999`` the last, and the search
text drops control characters (PostgreSQL refuses a NUL) and keeps at most ``SEARCH_MAX``
characters. ``templates/_pager.html`` draws the links and ``templates/_search.html`` the search field.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import QueryDict

PAGE_SIZE = 50  # rows per page of every paged list
SEARCH_MAX = 100  # characters of a search text used; the rest is dropped


def clean_text(value) -> str:
    """Search text without NUL or other control characters (PostgreSQL refuses a NUL), at most
    ``SEARCH_MAX`` characters, trimmed; anything that is not text counts as no search. The one
    cleaning of every search box (lists and pickers)."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value[: SEARCH_MAX * 4] if ch.isprintable())[:SEARCH_MAX].strip()


def search_text(query: QueryDict, param: str = "q") -> str:
    """The cleaned search text of ``param`` in the URL's ``query`` ("" when there is none)."""
    return clean_text(query.get(param, ""))


def page_links(query: QueryDict, page: Page, param: str = "page") -> dict:
    """``page`` (a Paginator page) with links to the previous and next page under the ``param``
    parameter, keeping every other parameter of the URL (the search, filters and other lists' pages)."""

    def link(number: int) -> str:
        params = query.copy()
        params[param] = str(number)
        return "?" + params.urlencode()

    return {
        "page": page,
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


def paged(items, query: QueryDict, param: str = "page", size: int = PAGE_SIZE) -> dict:
    """The page of ``items`` (an ordered queryset) that ``param`` in ``query`` names, with its links
    (``page_links``); any page number that does not parse is the first page, one past the end the last."""
    page = Paginator(items, size).get_page(query.get(param))
    return page_links(query, page, param)
