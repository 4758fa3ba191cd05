"""``{% account_url "accounts:login" %}``: the sign-in or sign-up link of the top bar, keeping
``?next=`` so that someone who signs in from a page (an invitation) comes back to it
(``kernel.next_url``: only a path of this site is kept)."""

from __future__ import annotations

from django import template

from kernel.next_url import return_to, with_next

register = template.Library()


@register.simple_tag(takes_context=True)
def account_url(context, url_name: str) -> str:
    request = context.get("request")
    return with_next(url_name, return_to(request) if request is not None else "")
