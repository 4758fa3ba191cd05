"""SCIM 2.0 on the wire (RFC 7643, RFC 7644): errors, filters, paging, PATCH, and the resources'
JSON. Pure functions over dictionaries: no query and no write happens here.

What the portal serves is a subset, and the discovery documents (``discovery.py``) say exactly
which: filters are ``<attribute> eq "<text>"`` on the attributes listed per resource, with no
``and``/``or``; no sorting, no ETags, no bulk, no password changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from permissions.api_input import BadInput, refuse_bad_text

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

MAX_RESULTS = 200
DEFAULT_COUNT = 100
MAX_TEXT = 254


class ScimError(Exception):
    """A refusal the client is told about, as a SCIM error (RFC 7644 section 3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type

    def body(self) -> dict:
        body = {"schemas": [ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


# --- paging and filters -------------------------------------------------------------------------


def _int_param(params, name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise invalid(f"“{name}” must be a whole number.")
    return int(text)


def paging(params) -> tuple[int, int]:
    """(startIndex, count): 1-based; below 1 counts as 1, a negative count as 0 (RFC 7644 3.4.2.4),
    and at most ``MAX_RESULTS`` per page."""
    start = max(1, _int_param(params, "startIndex", 1))
    count = min(MAX_RESULTS, max(0, _int_param(params, "count", DEFAULT_COUNT)))
    return start, count


_FILTER = re.compile(r'^\s*([A-Za-z][\w:.]*)\s+(eq)\s+("(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)


def parse_filter(text: str | None, attributes: dict[str, str]) -> tuple[str, str] | None:
    """(attribute, value) of ``attr eq "value"``, the attribute one of ``attributes`` (lower-case
    SCIM name → the name the caller knows); None without a filter. Anything else is ``invalidFilter``."""
    if text is None or text.strip() == "":
        return None
    if len(text) > 1000:
        raise invalid("The filter is too long.", "invalidFilter")
    found = _FILTER.match(text)
    if found is None:
        supported = ", ".join(f'{name} eq "…"' for name in attributes.values())
        raise invalid(f"Only these filters are supported: {supported}.", "invalidFilter")
    name = found.group(1).lower()
    for schema in (USER, GROUP):
        if name.startswith(schema.lower() + ":"):
            name = name[len(schema) + 1 :]
    if name not in attributes:
        raise invalid(f"Filtering on “{found.group(1)}” is not supported.", "invalidFilter")
    try:
        value = json.loads(found.group(3))
    except ValueError as exc:
        raise invalid("The filter's value is not a valid string.", "invalidFilter") from exc
    if not isinstance(value, str) or len(value) > MAX_TEXT or not _clean(value):
        raise invalid("The filter's value is not a valid string.", "invalidFilter")
    return attributes[name], value


def _clean(text: str) -> bool:
    """No NUL and no lone surrogate (what JSON escapes can smuggle into text)."""
    try:
        refuse_bad_text(text, "text")
    except BadInput:
        return False
    return True


def list_response(resources: list[dict], *, total: int, start: int) -> dict:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


ALWAYS_RETURNED = {"id", "schemas", "meta"}


def select_attributes(resource: dict, params) -> dict:
    """``attributes`` / ``excludedAttributes`` (RFC 7644 3.4.2.5), by top-level attribute."""

    def names(param: str) -> set[str]:
        text = params.get(param) or ""
        found = set()
        for item in text.split(","):
            item = item.strip().lower()
            for schema in (USER, GROUP):
                if item.startswith(schema.lower() + ":"):
                    item = item[len(schema) + 1 :]
            if item:
                found.add(item.split(".", 1)[0])
        return found

    wanted, excluded = names("attributes"), names("excludedAttributes")
    if wanted:
        return {k: v for k, v in resource.items() if k.lower() in wanted or k in ALWAYS_RETURNED}
    if excluded:
        return {k: v for k, v in resource.items() if k.lower() not in excluded or k in ALWAYS_RETURNED}
    return resource


# --- reading a resource sent by the client --------------------------------------------------------


def _text(value, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        if required:
            raise invalid(f"“{name}” is required.")
        return ""
    if not isinstance(value, str):
        raise invalid(f"“{name}” must be a string.")
    value = value.strip()
    if required and not value:
        raise invalid(f"“{name}” is required.")
    if len(value) > limit:
        raise invalid(f"“{name}” has at most {limit} characters.")
    return value


def _lower_keys(body: dict) -> dict:
    """Attribute names are case-insensitive (RFC 7643 2.1); a core schema URN prefix is dropped."""
    found = {}
    for key, value in body.items():
        key = key.lower()
        for schema in (USER, GROUP):
            if key.startswith(schema.lower() + ":"):
                key = key[len(schema) + 1 :]
        found[key] = value
    return found


def require_object(body) -> dict:
    if not isinstance(body, dict):
        raise invalid("The request's body must be a JSON object.", "invalidSyntax")
    return body


@dataclass(frozen=True)
class UserData:
    """What a User resource sent by the client says, checked."""

    user_name: str
    external_id: str
    given_name: str
    family_name: str
    formatted_name: str
    display_name: str
    email: str  # the primary (or the only, or the first) address; "" when none was sent
    emails: list[dict]  # every address sent, checked: value, type, primary
    active: bool


def user_data(body) -> UserData:
    data = _lower_keys(require_object(body))
    name = data.get("name") or {}
    if not isinstance(name, dict):
        raise invalid("“name” must be an object.")
    name = _lower_keys(name)
    emails = _emails(data.get("emails"))
    primary = next((item for item in emails if item.get("primary") is True), emails[0] if emails else {})
    active = data.get("active", True)
    if active is None:
        active = True
    if isinstance(active, str) and active.lower() in ("true", "false"):  # some providers send text
        active = active.lower() == "true"
    if not isinstance(active, bool):
        raise invalid("“active” must be true or false.")
    return UserData(
        user_name=_text(data.get("username"), "userName", required=True),
        external_id=_text(data.get("externalid"), "externalId"),
        given_name=_text(name.get("givenname"), "name.givenName", limit=150),
        family_name=_text(name.get("familyname"), "name.familyName", limit=150),
        formatted_name=_text(name.get("formatted"), "name.formatted", limit=150),
        display_name=_text(data.get("displayname"), "displayName", limit=150),
        email=primary.get("value", ""),
        emails=emails,
        active=active,
    )


def _emails(emails) -> list[dict]:
    if emails is None:
        return []
    if not isinstance(emails, list) or not all(isinstance(item, dict) for item in emails):
        raise invalid("“emails” must be a list of objects.")
    if len(emails) > 10:
        raise invalid("At most 10 addresses.", "tooMany")
    found = []
    for item in emails:
        item = _lower_keys(item)
        value = _text(item.get("value"), "emails.value")
        if not value:
            continue
        checked = {"value": value}
        if item.get("type") is not None:
            checked["type"] = _text(item.get("type"), "emails.type", limit=30)
        if item.get("primary") is not None:
            if not isinstance(item["primary"], bool):
                raise invalid("“emails.primary” must be true or false.")
            checked["primary"] = item["primary"]
        found.append(checked)
    if sum(1 for item in found if item.get("primary")) > 1:
        raise invalid("At most one address is primary.")
    return found


@dataclass(frozen=True)
class GroupData:
    display_name: str
    external_id: str
    member_ids: list[str] | None  # None: not sent (leave the members as they are)


def group_data(body) -> GroupData:
    data = _lower_keys(require_object(body))
    members = data.get("members")
    member_ids = None
    if members is not None:
        if not isinstance(members, list) or not all(isinstance(item, dict) for item in members):
            raise invalid("“members” must be a list of objects.")
        member_ids = [_text(_lower_keys(item).get("value"), "members.value", required=True) for item in members]
    return GroupData(
        display_name=_text(data.get("displayname"), "displayName", required=True, limit=100),
        external_id=_text(data.get("externalid"), "externalId"),
        member_ids=member_ids,
    )


# --- PATCH (RFC 7644 3.5.2) -------------------------------------------------------------------------

_PATH = re.compile(
    r'^([A-Za-z][\w]*)(?:\[\s*([A-Za-z][\w]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false)\s*\])?(?:\.([A-Za-z][\w]*))?$',
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Path:
    attribute: str
    filter_attribute: str | None = None
    filter_value: object = None
    sub: str | None = None


def parse_path(text) -> Path:
    if not isinstance(text, str) or len(text) > 500:
        raise invalid("“path” must be a string.", "invalidPath")
    text = text.strip()
    for schema in (USER, GROUP):
        if text.lower().startswith(schema.lower() + ":"):
            text = text[len(schema) + 1 :]
    found = _PATH.match(text)
    if found is None:
        raise invalid(f"The path “{text[:100]}” is not supported.", "invalidPath")
    attribute, filter_attribute, filter_value, sub = found.groups()
    if filter_value is not None:
        try:
            filter_value = json.loads(filter_value)
        except ValueError as exc:
            raise invalid("The path's filter value is not valid.", "invalidPath") from exc
        if isinstance(filter_value, str) and not _clean(filter_value):
            raise invalid("The path's filter value is not valid.", "invalidPath")
    return Path(
        attribute.lower(),
        filter_attribute.lower() if filter_attribute else None,
        filter_value,
        sub.lower() if sub else None,
    )


def _matches(item, path: Path) -> bool:
    if not isinstance(item, dict):
        return False
    value = _lower_keys(item).get(path.filter_attribute)
    if isinstance(value, str) and isinstance(path.filter_value, str):
        return value.lower() == path.filter_value.lower()
    return value == path.filter_value


def apply_patch(
    document: dict, body, *, multi_valued: set[str], complex_: set[str], required: frozenset[str] = frozenset()
) -> dict:
    """The resource ``document`` (lower-case top-level keys) after the PatchOp ``body``.

    The caller then reads the result as it reads a PUT, so a PATCH obeys exactly the rules of a
    replacement. ``multi_valued`` and ``complex_`` name the attributes of those kinds; a
    ``required`` attribute cannot be removed.
    """
    body = _lower_keys(require_object(body))
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise invalid(f"A PATCH names the schema {PATCH_OP}.", "invalidSyntax")
    operations = body.get("operations")
    if not isinstance(operations, list) or not operations:
        raise invalid("A PATCH has a non-empty list of “Operations”.", "invalidSyntax")
    if len(operations) > 1000:
        raise invalid("At most 1,000 operations at once.", "tooMany")
    document = json.loads(json.dumps(document))  # a deep copy
    for operation in operations:
        operation = _lower_keys(require_object(operation))
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise invalid("Each operation's “op” is add, replace or remove.", "invalidSyntax")
        op = op.lower()
        value = operation.get("value")
        if operation.get("path") in (None, ""):
            if op == "remove":
                raise invalid("A remove operation names a path.", "noTarget")
            if not isinstance(value, dict):
                raise invalid("Without a path, the value is an object of attributes.", "invalidValue")
            for key, item in value.items():
                _apply(document, op, parse_path(key), item, multi_valued, complex_)
        else:
            if op != "remove" and "value" not in operation:
                raise invalid(f"An {op} operation has a value.", "invalidValue")
            path = parse_path(operation["path"])
            if op == "remove" and path.attribute in required and path.filter_attribute is None and path.sub is None:
                raise invalid(f"“{path.attribute}” is required: it can be replaced, not removed.", "mutability")
            _apply(document, op, path, value, multi_valued, complex_)
    return document


def _apply(document: dict, op: str, path: Path, value, multi_valued: set[str], complex_: set[str]) -> None:
    name = path.attribute
    if name in multi_valued:
        items = document.get(name) or []
        if path.filter_attribute is None and path.sub is None:
            if op == "remove":
                document[name] = []
                return
            new = value if isinstance(value, list) else [value]
            if op == "replace":
                document[name] = new
            else:
                document[name] = items + [item for item in new if item not in items]
            return
        if path.filter_attribute is None:
            raise invalid("A sub-attribute of a list is named with a filter.", "invalidPath")
        matching = [item for item in items if _matches(item, path)]
        if op == "remove":
            if path.sub is None:
                document[name] = [item for item in items if not _matches(item, path)]
            else:
                for item in matching:
                    item.pop(path.sub, None)
            return
        if not matching:
            new = {path.filter_attribute: path.filter_value}
            items.append(new)
            matching = [new]
        for item in matching:
            if path.sub is None:
                if not isinstance(value, dict):
                    raise invalid("The value of a list item is an object.")
                item.update(value)
            else:
                item[path.sub] = value
        document[name] = items
        return
    if path.filter_attribute is not None:
        raise invalid(f"“{name}” is not a list.", "invalidPath")
    if name in complex_:
        current = document.get(name) or {}
        if path.sub is not None:
            if op == "remove":
                current.pop(path.sub, None)
            else:
                current[path.sub] = value
        elif op == "remove":
            current = {}
        else:
            if not isinstance(value, dict):
                raise invalid(f"“{name}” is an object.")
            current.update(_lower_keys(value))
        document[name] = current
        return
    if path.sub is not None:
        raise invalid(f"“{name}” has no sub-attributes.", "invalidPath")
    if op == "remove":
        document.pop(name, None)
    else:
        document[name] = value
