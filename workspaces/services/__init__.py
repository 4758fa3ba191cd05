"""Every write to workspaces goes through these functions, whichever door it came from.

Each takes ``actor`` (the person acting; ``None`` for the system, e.g. an operator's command that
names no inviter) as a keyword, checks the capability through ``permissions.policy``, enforces the
rules of docs/RULES.md section 1, writes one audit event, and runs in one transaction.
"""
