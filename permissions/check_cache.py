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
from django.core.cache import cache, caches
from redis.exceptions import RedisError

from workspaces.models import Workspace

from . import key_counts
from .checks import Check, CheckError, run_checks
from .keys import count_check_call

logger = logging.getLogger(__name__)


def _cache_key(workspace_id: int, version: int, check: Check) -> str:
    question = "\x1f".join((check.email, check.codename, check.scope, repr(check.target)))
    digest = hashlib.blake2b(question.encode(), digest_size=16).hexdigest()
    return f"check:{workspace_id}:{version}:{digest}"


# The warm path in one round trip: every answer, and when all are there, the call counted too.
_ANSWERS_AND_COUNT = """
local values = redis.call('MGET', unpack(KEYS, 1, #KEYS - 1))
for i = 1, #values do
    if not values[i] then return values end
end
redis.call('HINCRBY', KEYS[#KEYS], ARGV[1], 1)
redis.call('HINCRBY', KEYS[#KEYS], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[#KEYS], ARGV[4])
return values
"""


def _answer_and_count_in_redis(backend, redis, workspace, version, checks, key, seconds) -> list[bool]:
    """Answers and the count as ``cached_checks`` says, with Redis: one round trip when every
    answer is cached (a Lua script: MGET, then the count only if nothing was missing), two
    otherwise (the script, then the new answers stored and the call counted in one pipeline)."""
    keys = [backend.make_key(_cache_key(workspace.pk, version, check)) for check in checks]
    day, fields = key_counts.day_hash(key.pk)
    script = redis.register_script(_ANSWERS_AND_COUNT)
    values = script(keys=[*keys, day], args=[*fields, len(checks), key_counts.KEEP_SECONDS], client=redis)
    missing = [index for index, value in enumerate(values) if value is None]
    answers = [None if value is None else bool(backend.client.decode(value)) for value in values]
    if not missing:
        return answers
    try:
        fresh = run_checks(workspace, [checks[index] for index in missing])
    except CheckError as exc:
        if exc.index is not None:
            exc.index = missing[exc.index]  # the caller's numbering, not the misses'
        raise
    pipe = redis.pipeline(transaction=False)
    for index, answer in zip(missing, fresh, strict=True):
        answers[index] = answer
        pipe.set(keys[index], backend.client.encode(answer), ex=seconds)
    key_counts.add_count(pipe, day, fields, checks=len(checks))
    pipe.execute()
    return answers


def cached_checks(workspace: Workspace, version: int | None, checks: Sequence[Check], *, key=None) -> list[bool]:
    """``run_checks`` answers, from the cache where the workspace's ``version`` already has them.

    With ``key`` (the access key asking), the call is counted for it once its answers are known
    (``keys.count_check_call``; with Redis, in the same round trips as the answers)."""
    seconds = settings.API_CHECK_CACHE_SECONDS
    if key is not None and seconds and version is not None and checks:
        redis = key_counts.shared_redis()
        if redis is not None:
            try:
                return _answer_and_count_in_redis(caches["default"], redis, workspace, version, checks, key, seconds)
            except (RedisError, OSError):
                logger.warning("Check answers not cached: the cache cannot be reached", exc_info=True)
                answers = run_checks(workspace, checks)
                count_check_call(key, checks=len(checks))
                return answers
    answers = _cached_checks(workspace, version, checks)
    if key is not None:
        count_check_call(key, checks=len(checks))
    return answers


def _cached_checks(workspace: Workspace, version: int | None, checks: Sequence[Check]) -> list[bool]:
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
