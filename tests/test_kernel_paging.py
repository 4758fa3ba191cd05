"""``kernel.paging.paged``: one page of a list and its links; with ``one_query`` the page and the
list's length come from one query, and any page number gives what Paginator.get_page gives."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.http import QueryDict

from kernel.paging import paged
from tests.factories import make_team
from workspaces.models import Team

pytestmark = pytest.mark.django_db


def teams(workspace):
    return Team.objects.filter(workspace=workspace).order_by("name", "id")


@pytest.fixture
def seven(workspace):
    for n in range(7):
        make_team(workspace, f"Team {n}")
    return teams(workspace)


@pytest.mark.parametrize(
    "number",
    [None, "1", "2", "3", "4", "0", "-1", "abc", "", "٣", "1e3", "9" * 5000, "99999999999999999999", "\x00"],
)
def test_one_query_pages_are_those_of_the_paginator(seven, number):
    query = QueryDict(mutable=True)
    if number is not None:
        query["page"] = number
    expected = Paginator(seven, 3).get_page(number)
    pager = paged(seven, query, size=3, one_query=True)
    page = pager["page"]
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (expected.number, 7, 3)
    assert [t.pk for t in page] == [t.pk for t in expected]
    assert pager == {**pager, **{k: v for k, v in paged(seven, query, size=3).items() if k != "page"}}


def test_one_query_for_a_page_and_its_count(seven, django_assert_num_queries):
    with django_assert_num_queries(1):
        pager = paged(seven, QueryDict("page=3"), size=3, one_query=True)
        assert pager["page"].paginator.count == 7 and len(pager["page"]) == 1
        assert pager["previous"] == "?page=2" and pager["next"] == ""
    with django_assert_num_queries(2):  # past the end: the count, then the last page
        assert paged(seven, QueryDict("page=9"), size=3, one_query=True)["page"].number == 3


def test_an_empty_list_is_one_empty_page(workspace, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = paged(teams(workspace), QueryDict(""), one_query=True)["page"]
        assert (page.number, page.paginator.count, list(page), page.has_next()) == (1, 0, [], False)
