"""Pages show times in the person's own time zone (their profile's), for every request.

A person who chose none sees UTC here; a workspace's pages then use the workspace's zone
(``kernel.views.WorkspaceMixin``). Whatever the zone, every time shown names it (``|when``).
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone


class TimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        if chosen:
            # The field's validator admits only tz database names; a row written around it
            # (raw SQL, an old import) falls back to UTC instead of failing every page.
            try:
                timezone.activate(zoneinfo.ZoneInfo(chosen))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
