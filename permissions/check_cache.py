"""The check API's answers, kept in the shared cache (Redis in production) for every worker process.

An answer is stored under its workspace's access version (``permissions.access_version``), read in
the key's own lookup at the start of the call (``keys.authenticate_key``). Every write that can
change an answer changes that version in its own transaction, so from the moment it commits, every
call starting after it reads the new version and finds no answer from before: a change is never
answered from the cache, whether it adds or takes away. A call that read the old version just
before the commit may answer as before the change, as it would have without a cache.

Only answers are stored (one entry per question), never refusals: a 400 is decided before the
cache, and a 404 (an object not in the workspace) is recomputed each time. A cache that cannot be
reached answers from the database and logs it. ``API_CHECK_CACHE_SECONDS`` is how long an entry
lives (0: no cache); old versions' entries are never read again and simply expire.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from workspaces.models import Workspace

from .checks import Check, CheckError, run_checks

logger = logging.getLogger(__name__)


def _cache_key(workspace_id: int, version: int, check: Check) -> str:
    question = "\x1f".join((check.email, check.codename, check.scope, repr(check.target)))
    digest = hashlib.blake2b(question.encode(), digest_size=16).hexdigest()
    return f"check:{workspace_id}:{version}:{digest}"


def cached_checks(workspace: Workspace, version: int | None, checks: Sequence[Check]) -> list[bool]:
    """``run_checks`` answers, from the cache where the workspace's ``version`` already has them."""
    seconds = settings.API_CHECK_CACHE_SECONDS
    if not seconds or version is None or not checks:
        return run_checks(workspace, checks)
    keys = [_cache_key(workspace.pk, version, check) for check in checks]
    try:
        known = cache.get_many(keys)
    except (RedisError, OSError):
        logger.warning("Check answers not cached: the cache cannot be reached", exc_info=True)
        return run_checks(workspace, checks)
    missing = [index for index, key in enumerate(keys) if key not in known]
    if missing:
        try:
            answers = run_checks(workspace, [checks[index] for index in missing])
        except CheckError as exc:
            if exc.index is not None:
                exc.index = missing[exc.index]  # the caller's numbering, not the misses'
            raise
        fresh = {keys[index]: answer for index, answer in zip(missing, answers, strict=True)}
        try:
            cache.set_many(fresh, timeout=seconds)
        except (RedisError, OSError):
            logger.warning("Check answers not cached: the cache cannot be reached", exc_info=True)
        known.update(fresh)
    return [bool(known[key]) for key in keys]
