"""Whole numbers (object ids above all) are written in ASCII digits, and in no other way.

Python's ``int()`` reads every Unicode decimal digit and underscores: ``int("١") == int("１") ==
int("1") == 1`` and ``int("1_0") == 10``. Django's integer model fields and its form IntegerField use
``int()``, so an id arriving as text (an admin address, a query parameter, a form's choice, a lookup)
had many spellings, and code that compared ids as text could be walked around. URL converters
(``<int:...>``) already take ``[0-9]+`` only.

``install()`` (run once from the portal app's ``ready``) makes Django's integer model fields (every
primary and foreign key included) and the form IntegerField refuse text that is not an optionally
signed run of ASCII digits, the way they refuse "abc": a ValueError from a lookup, "not valid" from
a form, "does not exist" from the admin. Views that parse an id themselves use ``is_ascii_id``.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import IntegerField

ASCII_INTEGER = re.compile(r"[ \t\r\n]*[-+]?[0-9]+[ \t\r\n]*")
# The form field also takes a trailing ".0" (Django strips it) and, when localized, separators.
ASCII_FORM_INTEGER = re.compile(r"[ \t\r\n]*[-+]?[0-9][0-9,. '\u00a0]*[ \t\r\n]*")


def is_ascii_id(text) -> bool:
    """True for a non-empty run of ASCII digits: what an object id given as text must be."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def _refuses(pattern: re.Pattern, value) -> bool:
    return isinstance(value, str) and not pattern.fullmatch(value)


def install() -> None:
    """Make integer model fields and form IntegerFields refuse non-ASCII spellings of numbers."""
    if getattr(IntegerField, "_ascii_ids_installed", False):
        return
    model_prep, model_to_python = IntegerField.get_prep_value, IntegerField.to_python
    form_to_python = forms.IntegerField.to_python

    def get_prep_value(self, value):
        if _refuses(ASCII_INTEGER, value):
            raise ValueError(f"Field '{self.name}' expected a number but got {value!r}.")
        return model_prep(self, value)

    def to_python(self, value):
        if _refuses(ASCII_INTEGER, value):
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value})
        return model_to_python(self, value)

    def form_field_to_python(self, value):
        if _refuses(ASCII_FORM_INTEGER, value) and value not in self.empty_values:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return form_to_python(self, value)

    IntegerField.get_prep_value = get_prep_value
    IntegerField.to_python = to_python
    forms.IntegerField.to_python = form_field_to_python
    IntegerField._ascii_ids_installed = True
