"""Template filters for the account pages and mail."""

from datetime import timedelta

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def duration(value) -> str:
    """A span of time in words, to the minute: 900 or timedelta(minutes=15) → "15 minutes"."""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value or 0)
    days, rest = divmod(max(seconds, 60), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        ngettext("%d day", "%d days", days) % days if days else "",
        ngettext("%d hour", "%d hours", hours) % hours if hours else "",
        ngettext("%d minute", "%d minutes", minutes) % minutes if minutes else "",
    ]
    return " ".join(part for part in parts if part)
