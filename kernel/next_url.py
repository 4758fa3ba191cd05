"""The one rule for a ``next`` address that sign-in and sign-up carry: a path of this site.

A ``next`` is kept only when it is relative (``/…``, never ``//host`` or ``https://…``, even of this
host) and Django's ``url_has_allowed_host_and_scheme`` accepts it for the request's own host, as the
sign-in view checks before following it; anything else is dropped, so a crafted link can neither
send someone elsewhere after signing in nor ride along in the page's own links.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

NEXT = "next"
ACCOUNT_NAMESPACE = "accounts"  # sign-in, sign-up, reset…: never a page to come back to


def safe_next(request, url: str | None) -> str:
    """``url`` when it is a relative path of this site, else ""."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return ""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return ""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else ""


def return_to(request) -> str:
    """Where signing in (or up) from this page should lead back: on an account page, the ``next``
    it was given; elsewhere the page itself (not the home page, which is the default anyway)."""
    match = request.resolver_match
    if match is not None and match.namespace == ACCOUNT_NAMESPACE:
        found = request.GET.get(NEXT) or request.POST.get(NEXT)
    else:
        found = request.get_full_path()
    return "" if found == "/" else safe_next(request, found)


def with_next(url_name: str, next_url: str) -> str:
    """The URL named ``url_name``, with ``?next=`` when there is one."""
    url = reverse(url_name)
    return f"{url}?{urlencode({NEXT: next_url})}" if next_url else url
