"""
Parsing one cell of an import: text to the value a model field takes, or a `CellError` whose
message the editor sees with the row and the column. Lookups (an actor slug, a question key)
need the records loaded for the file: those parsers are the planners' (`planners.py`).
"""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django_countries import countries

from ..models.actors import validate_subdivision

# Lists of keys (signatories, conditions, identifiers, aliases) share one cell.
LIST_SEPARATOR = "|"

# Schemes that are never a document's address but could be pasted into a cell.
URL_SCHEME = re.compile(r"^(javascript|data|vbscript|file|mailto|ftp):", re.IGNORECASE)


class CellError(ValueError):
    """A cell's value is wrong; each message is shown with the row and column."""

    @property
    def messages(self):
        return [str(message) for message in self.args]


class BlankCell(Exception):  # noqa: N818 -- a signal, not an error
    """An optional cell left blank: a new record takes the model's default, an existing one
    keeps what it has (a blank cell never overwrites an editor's choice)."""


def text(value):
    return value


def parse_date(value, *, required=False):
    if not value:
        if required:
            raise CellError("A date is required (YYYY-MM-DD).")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CellError(f"'{value}' is not a date: write it as YYYY-MM-DD.") from None


def parse_required_date(value):
    return parse_date(value, required=True)


@functools.cache
def _choice_values(choices):
    # TextChoices.values builds a new list on every access; imports ask once per cell.
    return frozenset(choices.values)


def parse_choice(value, choices, *, optional=False, what="value"):
    if not value:
        if optional:
            raise BlankCell
        raise CellError(f"A {what} is required: one of {', '.join(choices.values)}.")
    normalized = value.strip().lower()
    if normalized in _choice_values(choices):
        return normalized
    for choice in choices:  # the human label is accepted too: "Supports on conditions"
        if normalized == str(choice.label).lower():
            return choice.value
    raise CellError(f"Unknown {what} '{value}': use one of {', '.join(choices.values)}.")


def choice(choices, what, *, optional=False):
    """A parser for a choice column: `choice(Stance, "stance")`."""
    return functools.partial(parse_choice, choices=choices, optional=optional, what=what)


def parse_int(value, *, default=0):
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise CellError(f"'{value}' is not a whole number.") from None
    if number < 0:
        raise CellError("The number cannot be negative.")
    return number


def parse_http_url(value, *, required=False):
    from ..models import http_url_validator

    if not value:
        if required:
            raise CellError("A web address is required (http:// or https://).")
        return ""
    try:
        http_url_validator(value)
    except ValidationError:
        raise CellError(
            f"'{value}' is not a web address starting with http:// or https://."
        ) from None
    return value


@functools.cache
def _country_codes():
    # Iterating django-countries translates every name: once a process, not once a cell.
    return frozenset(code for code, _name in countries)


def parse_country(value):
    if not value:
        return ""
    code = value.strip().upper()
    if code not in _country_codes():
        raise CellError(f"Unknown country '{value}': use a two-letter ISO 3166-1 code.")
    return code


def parse_role(value):
    """A membership's role, in lower case as the model asks; blank: the default, `member`."""
    role = " ".join(value.split()).lower()
    if not role:
        raise BlankCell
    return role


def parse_subdivision(value):
    """An ISO 3166-2 code that pycountry knows (`US-OR`), or empty."""
    code = value.strip().upper()
    if not code:
        return ""
    try:
        validate_subdivision(code)
    except ValidationError as error:
        raise CellError(*error.messages) from None
    return code


def parse_lines(value):
    """A list cell stored as one item per line (actor aliases)."""
    return "\n".join(split_list(value))


def looks_like_url(value):
    """A source reference is a URL when it has a scheme; anything else is a title."""
    return "://" in value or URL_SCHEME.match(value) is not None


def split_list(value):
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def join_list(values):
    return LIST_SEPARATOR.join(values)
