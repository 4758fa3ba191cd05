"""``{{ role|role_choice_label }}``: the one way a role picker names a role, for selects that a
template writes by hand (the people page's inline role change)."""

from django import template

from permissions.forms import role_choice_label as label_of

register = template.Library()


@register.filter
def role_choice_label(role) -> str:
    return label_of(role)
