"""
What a file type's column spec is made of (`columns.py`, `linked_columns.py`): a column, a
file type, and the getters and texts its columns share.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from . import cells

# What the docs' "required" says of a column that must be in the header row.
IN_HEADER = ("key", "yes")


@dataclass(frozen=True)
class Column:
    name: str
    export: Callable  # record -> str, or a list of str for a list column
    required: str = ""  # as the docs say: "key", "yes", "yes (new)", "to publish", ...
    meaning: str = ""  # the docs' explanation, for editors
    parse: Callable | None = cells.text  # cell -> value; None: the planner's `parse_<name>`
    field: str | None = ""  # the model field it sets ("": its name; None: none)
    is_list: bool = False

    @property
    def attribute(self):
        return self.name if self.field == "" else self.field


@dataclass(frozen=True)
class FileType:
    kind: str
    model: type
    key_column: str
    columns: tuple
    export_order: tuple
    export_select: tuple = ()  # what the export getters read, loaded with the rows
    export_prefetch: tuple = ()

    @cached_property
    def names(self):
        return tuple(column.name for column in self.columns)

    @cached_property
    def header_required(self):
        return tuple(c.name for c in self.columns if c.required in IN_HEADER)


def attr(name):
    """The getter of a plain text field."""
    return lambda record: getattr(record, name)


def iso(name):
    """The getter of a date field: YYYY-MM-DD, or empty."""

    def getter(record):
        value = getattr(record, name)
        return value.isoformat() if value else ""

    return getter


def choices_text(choices, default=None):
    """The docs' list of a vocabulary: `open` (default), `met`, `not_met`."""
    return ", ".join(
        f"`{value}`" + (" (default)" if value == default else "") for value in choices.values
    )


def question_key(question):
    return f"{question.topic.slug}/{question.slug}"


def source_reference(source):
    """How statements refer to a source: its URL, or the title of an offline document."""
    return source.url or source.title
