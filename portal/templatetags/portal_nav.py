"""``{% workspace_nav as nav %}``: the workspace navigation of ``portal.navigation`` for the
current page, which ``templates/workspaces/_nav.html`` renders."""

from __future__ import annotations

from django import template

from portal.navigation import Nav, nav_for

register = template.Library()


@register.simple_tag(takes_context=True)
def workspace_nav(context) -> Nav:
    """The groups of links the person sees in ``workspace``, the current page's entry marked.

    Workspace pages put the person's capabilities in the context (``ws_perms``); a page that did
    not asks the request's Access, which has them cached or loads them in one query.
    """
    request = context["request"]
    workspace = context["workspace"]
    perms = context.get("ws_perms")
    if perms is None:
        perms = request.access.perms(workspace)
    match = request.resolver_match
    return nav_for(
        perms,
        workspace.slug,
        view_name=match.view_name if match else "",
        namespace=match.namespace if match else "",
    )
