"""What the key-authenticated API accepts as text, before any of it reaches a query.

A NUL byte cannot be stored or compared by PostgreSQL, a lone UTF-16 surrogate (``"\\ud800"`` in JSON)
cannot be encoded for any database, and a JSON body nested thousands deep exhausts the parser's
recursion. Each is the caller's mistake, so each is a 400 with a message, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

MAX_JSON_DEPTH = 32


class BadInput(ValueError):
    """Input the API refuses; the message says why, for a 400."""


def refuse_bad_text(value: str, where: str) -> None:
    """BadInput if ``value`` holds a NUL byte or a lone surrogate (anything not encodable as UTF-8)."""
    if "\x00" in value:
        raise BadInput(f"{where} must not contain a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{where} must be valid Unicode text (no lone surrogates).") from None


def check_params(pairs: Iterable[tuple[str, str]], where: str) -> None:
    """Every name and value of a query string (or of a URL's captured parts)."""
    for name, value in pairs:
        refuse_bad_text(name, f"A {where} name")
        refuse_bad_text(value, f"“{name}”" if "\x00" not in name else f"A {where}")


def load_json(raw: bytes):
    """The decoded body; BadInput for anything but UTF-8 JSON of clean text nested at most MAX_JSON_DEPTH deep."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise BadInput(f"The body is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput("The body must be JSON.") from None
    _check_tree(data)
    return data


def _check_tree(data) -> None:
    """Walk without recursion, so depth itself cannot break the walk."""
    pending = [(data, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise BadInput(f"The body is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
        if isinstance(node, dict):
            for key, value in node.items():
                refuse_bad_text(key, "A JSON key")
                pending.append((value, depth + 1))
        elif isinstance(node, list):
            pending.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            refuse_bad_text(node, "A JSON string")
