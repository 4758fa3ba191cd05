"""URL slugs for new objects."""

from __future__ import annotations

from django.utils.text import slugify

# Slugs that the URL map uses for its own pages (/w/new/, /w/<slug>/sites/new/): an object with
# one of them would be unreachable.
RESERVED_SLUGS = frozenset({"new"})


def unique_slug(model, base: str, *, max_length: int = 50, **scope) -> str:
    base = slugify(base)[:max_length] or "item"
    slug, n = base, 1
    taken = set(model.objects.filter(slug__startswith=base, **scope).values_list("slug", flat=True))
    taken |= RESERVED_SLUGS
    while slug in taken:
        n += 1
        slug = f"{base[: max_length - len(str(n)) - 1]}-{n}"
    return slug
