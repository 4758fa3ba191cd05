"""How long does one password hash take: PBKDF2 (Django's default) against Argon2 at a few settings?

    .venv/bin/python benchmarks/hashing.py              # 7 runs each, median
    .venv/bin/python benchmarks/hashing.py --repeat 15

Every sign-in and every sign-up computes one hash (a sign-in with an unknown address too: the
backend hashes anyway so that the answer takes the same time), so this is most of their cost. The
rows are Django's PBKDF2 hasher at its default iterations and Argon2id (argon2-cffi) at Django's
default parameters and at lighter and heavier settings; the one the portal uses is marked. Each
hash is timed ``--repeat`` times and the median, the fastest and the slowest are printed, with
the memory one hash holds. No database is needed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    import django

    django.setup()


def _argon2(time_cost: int, memory_kib: int, parallelism: int):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    class Hasher(Argon2PasswordHasher):
        pass

    Hasher.time_cost, Hasher.memory_cost, Hasher.parallelism = time_cost, memory_kib, parallelism
    return Hasher()


def _time(hasher, repeat: int) -> list[float]:
    salt = hasher.salt()
    hasher.encode(PASSWORD, salt)  # warm up (imports, first allocation)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        hasher.encode(PASSWORD, salt)
        runs.append(time.perf_counter() - start)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per hasher (default 7)")
    args = parser.parse_args()
    _setup()
    from django.conf import settings
    from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher, get_hasher

    in_use = get_hasher("default")
    django_argon2 = Argon2PasswordHasher()
    rows = [
        (
            f"PBKDF2-SHA256, {PBKDF2PasswordHasher.iterations:,} iterations (Django default)",
            PBKDF2PasswordHasher(),
            "-",
        ),
        ("Argon2id t=1, m=19 MiB, p=1", _argon2(1, 19 * 1024, 1), "19 MiB"),
        ("Argon2id t=2, m=19 MiB, p=1 (OWASP recommended)", _argon2(2, 19 * 1024, 1), "19 MiB"),
        ("Argon2id t=3, m=64 MiB, p=2", _argon2(3, 64 * 1024, 2), "64 MiB"),
        (
            f"Argon2id t={django_argon2.time_cost}, m={django_argon2.memory_cost // 1024} MiB, "
            f"p={django_argon2.parallelism} (Django default)",
            django_argon2,
            f"{django_argon2.memory_cost // 1024} MiB",
        ),
    ]
    print(f"Password hashing, median of {args.repeat} runs (os.cpu_count()={os.cpu_count()})")
    print(f"In use: {settings.PASSWORD_HASHERS[0]}")
    print()
    print("| hasher | median | fastest | slowest | memory per hash |")
    print("| --- | --- | --- | --- | --- |")
    for label, hasher, memory in rows:
        runs = _time(hasher, args.repeat)
        same = (
            hasher.algorithm == in_use.algorithm
            and getattr(hasher, "memory_cost", None) == getattr(in_use, "memory_cost", None)
            and getattr(hasher, "time_cost", None) == getattr(in_use, "time_cost", None)
            and getattr(hasher, "parallelism", None) == getattr(in_use, "parallelism", None)
        )
        mark = " **(in use)**" if same else ""
        print(
            f"| {label}{mark} | {statistics.median(runs) * 1000:.0f} ms | {min(runs) * 1000:.0f} ms "
            f"| {max(runs) * 1000:.0f} ms | {memory} |"
        )


if __name__ == "__main__":
    main()
