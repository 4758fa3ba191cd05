"""Every time a page shows says which time zone it is in.

``{{ value|when }}`` renders ``<time datetime="2026-12-08T00:42:00+01:00">8 Dec 2026, 00:42 CET</time>``
in the active time zone (the person's own, else the workspace's, else UTC: accounts.middleware and
kernel.views.WorkspaceMixin choose it). ``|when:"day"`` shows the date alone (its zone in the
title, since a day too depends on it), ``|when:"long"`` spells the month out, ``|when:"seconds"``
adds the seconds. Loaded as a builtin (portal/settings/base.py), so no template needs ``{% load %}``.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()

FORMATS = {
    "": "j M Y, H:i",
    "long": "j F Y, H:i",
    "seconds": "j M Y, H:i:s",
    "day": "j M Y",
    "long day": "j F Y",
}


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation where it has a well-known one (CET, EST, UTC), else its offset
    from UTC ("UTC+03:00", never the bare "+03" that some zones use)."""
    abbreviation = moment.tzname() or ""
    if abbreviation and abbreviation[0] not in "+-":
        return abbreviation
    offset = date_format(moment, "O")  # e.g. +0300
    return f"UTC{offset[:3]}:{offset[3:]}"


def local_text(value: datetime, style: str = "") -> str:
    """The moment as text in the active zone, with the zone named (times) or not (days)."""
    moment = timezone.localtime(value)
    text = date_format(moment, FORMATS[style])
    return text if "day" in style else f"{text} {zone_label(moment)}"


@register.filter(is_safe=True)
def when(value, style: str = ""):
    """A ``<time>`` element for an aware datetime or a date; anything else is left as it is."""
    if style not in FORMATS or value is None:
        return value if value is not None else ""
    if not isinstance(value, datetime):  # a calendar date (an invoice's period) has no zone
        if not isinstance(value, date):
            return value
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, FORMATS["day"]))
    if timezone.is_naive(value):
        return value
    moment = timezone.localtime(value)
    iso = moment.isoformat()
    if "day" in style:
        full = local_text(value, "long" if "long" in style else "")
        return format_html('<time datetime="{}" title="{}">{}</time>', iso, full, local_text(value, style))
    return format_html('<time datetime="{}">{}</time>', iso, local_text(value, style))
