"""Pickers: choose one member, team or site out of thousands, without a ``<select>`` of them all.

A picker is a search box and at most ``LIMIT`` matches. Without JavaScript it is a plain GET form:
"Find" reloads the page with ``?<name>_q=<text>`` and the page lists the matches as radio buttons
inside its POST form (or as the options of a short ``<select>``, as the invitation form does). With
``static/js/picker.js`` typing in the box fetches the same page with ``&picker=<name>`` and puts the
fragment the server renders (``templates/pickers/choices.html``) in place of the list, so the
server alone decides what is offered. The POST never trusts the list: the chosen value is looked up
again among the candidates of the URL's workspace (``workspaces.pickers``).

Using one on a page:

1. In the view, build it from the query string, with a search that reads at most ``limit`` rows
   (one query whatever the number of candidates)::

       picker = Picker(self.request.GET, name="member", field="membership", label="Member",
                       search=member_search(candidates))   # workspaces.pickers.forms

   and give the view ``PickerViewMixin`` with ``pickers()`` returning it, so ``?picker=member``
   answers with the fragment alone.
2. In the template, outside the POST form::

       {% include "pickers/search.html" with picker=picker %}

   and inside it, where the radio buttons go::

       {% include "pickers/choices.html" with picker=picker %}

3. On POST, resolve the posted value with a lookup scoped to the workspace
   (``workspaces.pickers.forms.PickedMemberField`` for members; anything else is a form error).

The kernel knows nothing of members or sites: the search is a callable handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.http import QueryDict
from django.shortcuts import render
from django.utils.functional import cached_property

from kernel.paging import clean_text

LIMIT = 20  # matches shown at once; type more of the name to narrow them
KEEP_MAX = 20  # other parameters of the page's URL carried through a search (its list's page, …)


@dataclass(frozen=True)
class Choice:
    """One match: the value the form posts, what the person reads, and a detail shown after it."""

    value: str
    label: str
    detail: str = ""


# (text, limit) → at most ``limit`` choices, in a stable order
Search = Callable[[str, int], Sequence[Choice]]


def with_chosen(search: Search, chosen: Choice | None) -> Search:
    """``search`` with ``chosen`` (the value the page already holds) always first, so a GET form
    sent again keeps it even when it is not among the first matches."""
    if chosen is None:
        return search

    def search_keeping_chosen(text: str, limit: int) -> list[Choice]:
        return [chosen] + [choice for choice in search(text, limit) if choice.value != chosen.value]

    return search_keeping_chosen


class Picker:
    """One picker on one page: its search text from the URL and the matches it offers."""

    def __init__(
        self,
        query: QueryDict,
        *,
        name: str,
        field: str,
        label: str,
        search: Search,
        help_text: str = "",
        selected: str = "",
        anchor: str = "",
        action: str = "",
    ):
        self.name = name  # the fragment's name (?picker=<name>) and the search's prefix
        self.param = f"{name}_q"  # the search box's parameter
        self.field = field  # the POST field the radio buttons fill
        self.label = label
        self.help_text = help_text
        self.selected = selected  # the value already chosen (a form shown again after an error)
        self.anchor = anchor  # the part of the page a search comes back to
        self.action = action  # the page a search goes to, when it is not the current URL's
        self.text = clean_text(query.get(self.param, ""))
        self.searched = self.param in query
        self.keep = self._other_parameters(query)
        self._search = search

    def _other_parameters(self, query: QueryDict) -> list[tuple[str, str]]:
        """The page's other parameters, so a search keeps its lists where they were."""
        kept = [(key, value) for key, values in query.lists() if key not in (self.param, "picker") for value in values]
        return [(key, clean_text(value)) for key, value in kept[:KEEP_MAX] if clean_text(key) == key]

    @cached_property
    def _found(self) -> list[Choice]:
        return list(self._search(self.text, LIMIT + 1))

    @property
    def choices(self) -> list[Choice]:
        return self._found[:LIMIT]

    @property
    def more(self) -> bool:
        """More candidates match than are shown."""
        return len(self._found) > LIMIT

    @property
    def limit(self) -> int:
        return LIMIT


class PickerViewMixin:
    """A page with pickers: ``?picker=<name>`` answers with that picker's list alone (the fragment
    ``static/js/picker.js`` fetches); anything else is the page. Put it before the view class."""

    picker_template = "pickers/choices.html"

    def pickers(self) -> list[Picker]:
        return []

    def get(self, request, *args, **kwargs):
        wanted = request.GET.get("picker")
        if wanted:
            for picker in self.pickers():
                if picker.name == wanted:
                    return render(request, self.picker_template, {"picker": picker})
        return super().get(request, *args, **kwargs)
