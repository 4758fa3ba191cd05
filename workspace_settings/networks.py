"""Reading IP addresses and CIDR ranges typed by people, one per line.

Every line is checked before anything is stored, so a paste with one bad line stores nothing and
every bad line is named (docs/RULES.md, rule 8). Networks are compared in canonical form, so
``10.0.0.0/08`` and ``10.0.0.0/8``, or an IPv6 range written expanded and compressed, are the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kernel.errors import RuleViolation

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_LINES = 1000


def _network(text: str) -> IPNetwork:
    """The network ``text`` names; ValueError with a message for people if it names none."""
    if "%" in text:  # an IPv6 zone index belongs to one machine's interface, not to visitors
        raise ValueError(f"“{text}” is not an IP address or range.")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"“{text}” is not an IP address or range.") from None
    raise ValueError(f"“{text}” is a range with host bits set; did you mean {loose}?")


def canonical(text: str) -> str:
    """The canonical CIDR text of one address or range; ValueError with a message if invalid.
    A single address becomes /32 (IPv4) or /128 (IPv6)."""
    return str(_network(text.strip()))


def sort_key(network: str):
    parsed = ipaddress.ip_network(network)
    return (parsed.version, parsed.network_address, parsed.prefixlen)


def parse_lines(text: str, *, existing: Iterable[str] = ()) -> list[str]:
    """The canonical networks on the non-blank lines of ``text``, in order.

    Raises RuleViolation naming every bad line: not an address, host bits set, listed twice, or
    already in ``existing`` (canonical networks already stored).
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise RuleViolation("Enter at least one IP address or range.")
    if len(lines) > MAX_LINES:
        raise RuleViolation(f"Enter at most {MAX_LINES} addresses or ranges at a time.")
    stored, first_seen = set(existing), {}
    networks, problems = [], []
    for number, line in lines:
        try:
            network = canonical(line)
        except ValueError as exc:
            problems.append(f"Line {number}: {exc}")
            continue
        if network in stored:
            problems.append(f"Line {number}: {network} is already blocked.")
        elif network in first_seen:
            problems.append(f"Line {number}: {network} is already on line {first_seen[network]}.")
        else:
            first_seen[network] = number
            networks.append(network)
    if problems:
        raise RuleViolation(problems)
    return networks
