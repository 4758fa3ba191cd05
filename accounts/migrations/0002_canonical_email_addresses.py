"""Bring every stored e-mail address to its canonical form (``accounts.addresses.normalize_email``).

Before this, addresses were only trimmed and lower-cased, so "victim@ｂeta-inv.test" (fullwidth)
and "victim@beta-inv.test" could both be stored. Where two stored addresses become the same and
the table allows an address only once (accounts, pending invitations of one workspace, members of
one viewer group), the migration changes nothing and stops
with a report naming every collision: an operator decides which row to keep (merge or change the
other in the admin, or the shell) and runs ``migrate`` again.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import migrations

from accounts.addresses import normalize_email

# (app label, model, the fields that scope the uniqueness (None: the address may repeat), a filter
# for the rows the uniqueness applies to). Billing contacts keep the spelling they were given.
TABLES = [
    ("accounts", "User", (), {}),
    ("workspaces", "Invite", ("workspace_id",), {"status": "pending"}),
    ("workspaces", "InviteSend", None, {}),
    ("workspaces", "ViewerGroupMember", ("group_id",), {}),
    ("workspaces", "ViewerLink", None, {}),
]


class AddressCollision(RuntimeError):
    """Two stored addresses have the same canonical form where only one may exist."""


def _collisions(model, scope, unique_filter) -> list[str]:
    groups = defaultdict(list)
    rows = model.objects.filter(**unique_filter).values_list("pk", "email", *scope).order_by("pk")
    for pk, email, *where in rows.iterator():
        groups[(tuple(where), normalize_email(email))].append((pk, email))
    problems = []
    for (where, canonical), found in groups.items():
        if len(found) > 1:
            within = f" (in {', '.join(f'{f}={v}' for f, v in zip(scope, where, strict=True))})" if scope else ""
            spelt = ", ".join(f"id {pk} “{email}”" for pk, email in found)
            problems.append(f"{model._meta.label}{within}: {spelt} are all {canonical}")
    return problems


def canonicalise(apps, schema_editor):
    tables = []
    for app_label, name, scope, unique_filter in TABLES:
        try:
            tables.append((apps.get_model(app_label, name), scope, unique_filter))
        except LookupError:  # an app or model not installed in this project's history
            continue
    problems = []
    for model, scope, unique_filter in tables:
        if scope is not None:
            problems += _collisions(model, scope, unique_filter)
    if problems:
        raise AddressCollision(
            "These stored e-mail addresses are the same address in different spellings, where only one "
            "may exist:\n  " + "\n  ".join(problems) + "\nNothing was changed. Keep one row of each (delete "
            "or change the others, e.g. in the admin), then run migrate again."
        )
    for model, _, _ in tables:
        changed = []
        for row in model.objects.only("pk", "email").iterator():
            canonical = normalize_email(row.email)
            if canonical != row.email:
                row.email = canonical
                changed.append(row)
        model.objects.bulk_update(changed, ["email"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("workspaces", "0002_viewerlink"),
    ]

    operations = [migrations.RunPython(canonicalise, migrations.RunPython.noop)]
