"""
Keyset ("cursor") pagination for the API.

A page is the `limit` rows that follow the last row of the page before, in a fixed order on a
unique key: (date, id) newest first for statements, (name, id) for a board, id for the rest.
The database reads each page as one index range, however deep (no OFFSET, no COUNT), and
rows written between two requests never shift a page: nothing is repeated or skipped, and a
row added behind the cursor is simply not on the pages still to come.

The cursor is opaque to clients: the list's name and the last row's key, as JSON in
URL-safe base64.
"""

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from django.db.models import Q

MAX_ID = 2**63 - 1


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Order:
    """
    The order of a list: its name (carried in the cursor, so that one list's cursor is
    refused by another), its key's fields, and the type of each (`date`, `int`, `str`).
    """

    name: str
    fields: tuple
    types: tuple
    descending: bool = False

    def order_by(self):
        return [f"-{name}" if self.descending else name for name in self.fields]

    def after(self, values):
        """Rows after the key `values` in this order: (a > x) or (a = x and b > y) ..."""
        op = "lt" if self.descending else "gt"
        condition = Q()
        for index, (name, value) in enumerate(zip(self.fields, values, strict=True)):
            equal = dict(zip(self.fields[:index], values[:index], strict=True))
            condition |= Q(**equal, **{f"{name}__{op}": value})
        return condition

    def key(self, row):
        return [getattr(row, name) for name in self.fields]


NEWEST_FIRST = Order("newest", ("date", "pk"), ("date", "int"), descending=True)
BY_ID = Order("id", ("pk",), ("int",))
BY_ACTOR_NAME = Order("name", ("position_actor_name", "actor_id"), ("str", "int"))


def encode(order, values):
    plain = [order.name]
    plain += [value.isoformat() if isinstance(value, datetime.date) else value for value in values]
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(order, cursor):
    """The key a cursor carries, checked against the order's types; BadCursor otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        values = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor("This cursor is not one the API gave out.") from error
    if not isinstance(values, list) or values[:1] != [order.name]:
        raise BadCursor("This cursor is not one the API gave out for this list.")
    values = values[1:]
    if len(values) != len(order.types):
        raise BadCursor("This cursor is not one the API gave out for this list.")
    return [_value(kind, value) for kind, value in zip(order.types, values, strict=True)]


def _value(kind, value):
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= MAX_ID:
            return value
    elif kind == "str" and isinstance(value, str) and "\x00" not in value:
        return value
    elif kind == "date" and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise BadCursor("This cursor is not one the API gave out for this list.")


def page(queryset, order, cursor, limit):
    """`(rows, next_cursor)`: up to `limit` rows after `cursor`; next_cursor None at the end."""
    queryset = queryset.order_by(*order.order_by())
    if cursor:
        queryset = queryset.filter(order.after(decode(order, cursor)))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(order, order.key(rows[-1]))
