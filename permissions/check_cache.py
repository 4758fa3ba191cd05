"""The check API's answers, kept in two layers: this process's memory, in front of the shared cache
(Redis in production) that every worker process reads and fills.

An answer is stored under its workspace's access version (``permissions.access_version``), read in
the key's own lookup at the start of the call (``keys.authenticate_key``). Every write that can
change an answer changes that version in its own transaction, so from the moment it commits, every
call starting after it reads the new version and finds no answer from before, in either layer: a
change is never answered from the cache, whether it adds or takes away. A call that read the old
version just before the commit may answer as before the change, as it would have without a cache.

The process's layer (``_ProcessAnswers``) holds, per workspace, the answers of one version: the
first call that reads a newer version drops the older answers at once. It spares a warm call its
round trip to Redis, which was a quarter of its cost. It is bounded by ``PROCESS_ANSWERS_MAX``
answers in all (past that it starts again, empty) and, like the shared layer, by
``API_CHECK_CACHE_SECONDS``: a version's answers are dropped that long after its first.

Only answers are stored (one entry per question), never refusals: a 400 is decided before the
cache, and a 404 (an object not in the workspace) is recomputed each time. A shared cache that
cannot be reached answers from the database and logs it. ``API_CHECK_CACHE_SECONDS`` is how long an
entry lives (0: no cache); old versions' entries are never read again and simply expire.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from workspaces.models import Workspace

from .checks import Check, CheckError, run_checks
from .keys import count_check_call

logger = logging.getLogger(__name__)

PROCESS_ANSWERS_MAX = 50_000  # about 15 MB of questions and answers per process


class _ProcessAnswers:
    """This process's answers: workspace id → (version, monotonic time its answers expire, {Check:
    answer}). A dict operation at a time, so threads of one process may share it (the GIL)."""

    def __init__(self):
        self.by_workspace: dict[int, tuple[int, float, dict[Check, bool]]] = {}
        self.size = 0

    def answers(self, workspace_id: int, version: int, seconds: int) -> dict[Check, bool]:
        """The workspace's answers under ``version``: none yet when the version is new or expired."""
        now = time.monotonic()
        known = self.by_workspace.get(workspace_id)
        if known is None or known[0] != version or known[1] <= now:
            if known is not None:
                self.size -= len(known[2])
            known = self.by_workspace[workspace_id] = (version, now + seconds, {})
        return known[2]

    def add(self, answers: dict[Check, bool], fresh: dict[Check, bool]) -> None:
        """Keep ``fresh`` with ``answers`` (a dict ``answers`` gave), unless that would pass the
        bound: then start again, empty."""
        if self.size + len(fresh) > PROCESS_ANSWERS_MAX:
            self.clear()
            return
        answers.update(fresh)
        self.size += len(fresh)

    def clear(self) -> None:
        self.by_workspace, self.size = {}, 0


_process_answers = _ProcessAnswers()


def clear_process_answers() -> None:
    """Forget this process's answers (the shared cache keeps its own)."""
    _process_answers.clear()


def _cache_key(workspace_id: int, version: int, check: Check) -> str:
    question = "\x1f".join((check.email, check.codename, check.scope, repr(check.target)))
    digest = hashlib.blake2b(question.encode(), digest_size=16).hexdigest()
    return f"check:{workspace_id}:{version}:{digest}"


def cached_checks(workspace: Workspace, version: int | None, checks: Sequence[Check], *, key=None) -> list[bool]:
    """``run_checks`` answers, from the caches where the workspace's ``version`` already has them.

    With ``key`` (the access key asking), the call is counted for it once its answers are known
    (``keys.count_check_call``)."""
    answers = _answers(workspace, version, checks)
    if key is not None:
        count_check_call(key, checks=len(checks))
    return answers


def _answers(workspace: Workspace, version: int | None, checks: Sequence[Check]) -> list[bool]:
    seconds = settings.API_CHECK_CACHE_SECONDS
    if not seconds or version is None or not checks:
        return run_checks(workspace, checks)
    known = _process_answers.answers(workspace.pk, version, seconds)
    missing = [index for index, check in enumerate(checks) if check not in known]
    if missing:
        try:
            shared = _shared_answers(workspace, version, [checks[index] for index in missing], seconds)
        except CheckError as exc:
            if exc.index is not None:
                exc.index = missing[exc.index]  # the caller's numbering, not the misses'
            raise
        fresh = dict(zip((checks[index] for index in missing), shared, strict=True))
        _process_answers.add(known, fresh)
        return [fresh[check] if check in fresh else known[check] for check in checks]
    return [known[check] for check in checks]


def _shared_answers(workspace: Workspace, version: int, checks: Sequence[Check], seconds: int) -> list[bool]:
    """``run_checks`` answers, from the shared cache where the workspace's ``version`` already has them."""
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
