"""The fixed catalogue of user attributes: facts about tracked people that the platform may
collect. Each is off unless the workspace switches it on, except the anonymous user ID."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    key: str
    name: str
    description: str
    default: bool = False


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("user_id", "User ID", "Your own identifier for the person, as your site sends it.", default=True),
    Attribute("email", "E-mail address", "The person's e-mail address."),
    Attribute("name", "Name", "The person's full name."),
    Attribute("company", "Company", "The company the person works for."),
    Attribute("plan", "Plan", "The plan or tier the person is on in your product."),
    Attribute("signup_date", "Sign-up date", "When the person signed up to your product."),
    Attribute("country", "Country", "The country derived from the visit's location."),
    Attribute("language", "Language", "The browser's preferred language."),
)

BY_KEY = {attribute.key: attribute for attribute in ATTRIBUTES}
ATTRIBUTE_CHOICES = [(attribute.key, attribute.name) for attribute in ATTRIBUTES]
