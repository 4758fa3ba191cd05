"""The one JSON writer for streamed exports (the people page's download, ``manage.py export_members``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


def json_lines(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON array written one object per line, never held whole."""
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"
