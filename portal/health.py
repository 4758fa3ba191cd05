"""``/healthz``: the process is up and answering. For load balancers and uptime probes.

It touches neither the database nor the cache, so it says only that a worker can answer a request;
it stays cheap enough to be asked every second, and it is the benchmarks' trivial view.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_not_required
@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})
