"""The usage page (capability ``view_usage``), at /w/<workspace_slug>/usage/: what the workspace
holds against its plan's limits, and the check API's calls per access key and day.

A fixed number of queries whatever the numbers of members, sites, keys and days (pinned by
tests/test_usage_page.py at two sizes).
"""

from __future__ import annotations

from django.utils import timezone
from django.views.generic import TemplateView

from billing.limits import plan_of, usage_rows
from kernel.views import WorkspaceMixin
from permissions.key_counts import flush_counts
from permissions.selectors import check_api_use
from workspaces.selectors import workspace_contents

DAYS = 30


class UsageView(WorkspaceMixin, TemplateView):
    required_capability = "view_usage"
    template_name = "workspaces/usage.html"

    def get_context_data(self, **kwargs):
        contents = workspace_contents(self.workspace)
        plan = plan_of(self.workspace)
        flush_counts()  # the calls counted in the shared cache since the last flush (none when it is local)
        days, keys = check_api_use(self.workspace, days=DAYS, today=timezone.now().date())
        return super().get_context_data(
            contents=contents,
            plan=plan,
            limits=usage_rows(plan, contents),
            days=days,
            key_totals=keys,
            period_days=DAYS,
            period_calls=sum(day.calls for day in days),
            period_checks=sum(day.checks for day in days),
            **kwargs,
        )
