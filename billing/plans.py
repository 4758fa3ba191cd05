"""The plan catalogue, kept in ``settings.BILLING_PLANS`` (a list of dicts, in rank order).

Plans are data, not rows: staff change the catalogue in the settings, and a workspace stores only
its plan's key. The catalogue's order is its rank, so "upgrade" and "downgrade" need no price
comparison (two plans may cost the same). Without the setting, ``DEFAULT_PLANS`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PLANS = [
    {"key": "free", "name": "Free", "monthly_price": "0.00", "currency": "EUR", "limits": {"sites": 1, "members": 3}},
    {"key": "growth", "name": "Growth", "monthly_price": "49.00", "currency": "EUR", "limits": {"sites": 5}},
    {"key": "business", "name": "Business", "monthly_price": "199.00", "currency": "EUR", "limits": {"sites": 25}},
    {"key": "scale", "name": "Scale", "monthly_price": "799.00", "currency": "EUR", "limits": {"sites": None}},
]

# The rank of a plan that is no longer in the catalogue.
LEGACY_RANK = 10**6

LIMIT_LABELS = {"sites": "Sites", "members": "Members", "monthly_events": "Tracked events a month"}


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    monthly_price: Decimal
    currency: str
    rank: int
    limits: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def limit_rows(self) -> list[tuple[str, str]]:
        """(label, value) for each limit, "Unlimited" for None, for the pages and the e-mails."""
        return [
            (LIMIT_LABELS.get(key, key.replace("_", " ").capitalize()), "Unlimited" if value is None else f"{value:,}")
            for key, value in self.limits.items()
        ]

    def __str__(self):
        return self.name


def _plan(rank: int, row: dict) -> Plan:
    try:
        return Plan(
            key=str(row["key"]),
            name=str(row["name"]),
            monthly_price=Decimal(str(row["monthly_price"])),
            currency=str(row.get("currency", "EUR")),
            rank=rank,
            limits=dict(row.get("limits") or {}),
        )
    except (KeyError, ArithmeticError) as exc:
        raise ImproperlyConfigured(f"BILLING_PLANS[{rank}] needs key, name and a numeric monthly_price.") from exc


def all_plans() -> list[Plan]:
    """The catalogue in rank order. Read on each call, so tests and settings overrides apply."""
    plans = [_plan(rank, row) for rank, row in enumerate(getattr(settings, "BILLING_PLANS", None) or DEFAULT_PLANS)]
    if len({plan.key for plan in plans}) != len(plans):
        raise ImproperlyConfigured("BILLING_PLANS has two plans with the same key.")
    return plans


def plan_by_key(key: str) -> Plan | None:
    return next((plan for plan in all_plans() if plan.key == key), None)


def default_plan() -> Plan:
    """Where a new workspace starts and where a cancellation leads: the first plan."""
    return all_plans()[0]


def plan_or_unknown(key: str) -> Plan:
    """The plan of a stored key. A key that left the catalogue still shows, under its own name, and
    ranks above every plan, so leaving it is a request that staff look at, never automatic."""
    return plan_by_key(key) or Plan(key=key, name=key, monthly_price=Decimal("0"), currency="", rank=LEGACY_RANK)
