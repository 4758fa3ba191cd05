"""The password hasher: Django's Argon2id hasher with parameters sized for a small shared machine.

Django's own Argon2 defaults (t=2, 100 MiB, parallelism 8) took about as long as PBKDF2 on the
portal's 2-core machine (166 ms against 207 ms a hash, ``benchmarks/hashing.py``): parallelism 8
buys nothing on 2 cores and 100 MiB per sign-in adds up under load. These are OWASP's recommended
Argon2id parameters (19 MiB, 2 passes, 1 lane): about 17 ms a hash, and memory-hard, so a guessing
attack with graphics cards gains far less than against PBKDF2. The algorithm name stays "argon2", so
the stored hashes are Django's own format; if these numbers change, Django re-hashes each password
at its owner's next sign-in (``must_update``).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
