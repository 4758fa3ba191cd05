"""The set-up QR code, drawn on the server as inline SVG, so no image service ever sees the secret."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, label: str) -> SafeString:
    """An <svg> element showing ``data`` as a QR code, with ``label`` as its accessible name."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" class="qr-code" ', 1)
    # Safe: qrcode wrote the element (paths only) and the label is escaped.
    return mark_safe(svg)  # noqa: S308
