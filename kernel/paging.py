"""Paged, searchable lists: one page of a list and its search text, both from the URL.

Every list that grows with a workspace (members, teams, a team's members, experiences, viewer
groups and their addresses, access keys, …) shows one page at a time through Django's Paginator:
a COUNT and one slice, so two queries whatever the size of the list. The page number and the search
text live in the URL, so a page can be shared and reloaded, and the links to the other pages keep
every other parameter (the search, another list's page). A page number or search text that does not
parse is never an error: ``?page=abc`` is the first page, ``?page=99999`` the last, and the search
text drops control characters (PostgreSQL refuses a NUL) and keeps at most ``SEARCH_MAX``
characters. ``templates/_pager.html`` draws the links and ``templates/_search.html`` the search field.

A short list beside a long one (the pending invitations and join requests of the people page) can
be paged in one query instead (``paged(..., one_query=True)``): the slice carries the list's length
as ``COUNT(*) OVER ()``, which costs a scan of the whole list, so it is for lists of a few thousand
rows at most. A page past the end (or a number below 1) falls back to the count and the last page.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.http import QueryDict

PAGE_SIZE = 50  # rows per page of every paged list
SEARCH_MAX = 100  # characters of a search text used; the rest is dropped
_OFFSET_MAX = 2**31  # a larger offset is past the end of any list (and beyond PostgreSQL's bigint)


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


def paged(items, query: QueryDict, param: str = "page", size: int = PAGE_SIZE, *, one_query: bool = False) -> dict:
    """The page of ``items`` (an ordered queryset) that ``param`` in ``query`` names, with its links
    (``page_links``); any page number that does not parse is the first page, one past the end the last.
    ``one_query``: the page and the list's length in one query (see the module's notes)."""
    number = query.get(param)
    page = _one_query_page(items, number, size) if one_query else None
    if page is None:
        page = Paginator(items, size).get_page(number)
    return page_links(query, page, param)


def _one_query_page(items, number, size: int) -> Page | None:
    """Page ``number`` of ``items`` with the paginator's count taken from the same query, or None
    when the number names no page of the list (the caller then asks ``Paginator.get_page``)."""
    try:
        number = int(number) if number is not None else 1
    except (TypeError, ValueError):
        number = 1  # as Paginator.get_page: not a number is the first page
    if number < 1 or (number - 1) * size >= _OFFSET_MAX:
        return None
    offset = (number - 1) * size
    rows = list(items.annotate(paging_total=Window(Count("*")))[offset : offset + size])
    if not rows and number > 1:
        return None
    paginator = Paginator(items, size)
    paginator.count = rows[0].paging_total if rows else 0  # cached_property: set, not computed
    return Page(rows, number, paginator)
