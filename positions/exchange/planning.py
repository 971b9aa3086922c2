"""
Planning an import: for every row, what it would write (new, update, skip) or why not.

One planner for every file type (`Planner.plan_row`); a type says only what differs, in the
hooks its planner overrides (`planners.py`):

- `prepare(rows)`: load, in a few queries for the whole file, the records the rows refer to
  and those they may update (`existing`, by key);
- `row_key(row)`, `key_errors(...)`: the row's natural key, and what is wrong with it;
- `parse_<column>(value)`: the cells that need those records (a question, the signatories);
- `new_instance(key, related)`: the record a new key creates;
- `relate(...)`: compare the relations the type writes itself (signatures, parents) and say
  whether they changed;
- `check(...)`: rules beyond the model's own (the editorial rule, for statements).

The model's own rules (`clean_fields`, `clean`) run on every row without a query.
"""

import functools
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .cells import BlankCell, CellError


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it (header = 1); 0 = the file as a whole
    column: str
    message: str

    def __str__(self):
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


@dataclass
class RowPlan:
    """What the import will do with one row."""

    number: int
    key: str
    action: str  # "new", "update" or "skip"
    instance: object
    changed_fields: list = field(default_factory=list)
    related: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # the row as read, for the preview
    # column -> (old, new) as text, for the preview's diff of an updated row
    changes: dict = field(default_factory=dict)
    clears: list = field(default_factory=list)  # columns whose stored value the row empties
    matched_by: str = ""  # how the row found its record when not by its key
    candidates: list = field(default_factory=list)  # existing records it may duplicate

    @property
    def flagged(self):
        """A likely duplicate the importer has not decided about."""
        return bool(self.candidates)


class _Operator:
    """Stands for the server's operator (a command-line import without --user)."""

    def __init__(self, may_publish):
        self.may_publish = may_publish

    def has_perm(self, perm):
        return self.may_publish


@dataclass
class ImportContext:
    """Who imports what: used for the editorial rules, history records and audit fields."""

    user: object = None  # recorded in history; None for the server's operator
    file_name: str = ""
    can_publish: bool = False  # the operator's right to publish, when there is no user
    # An empty cell that would clear a stored value: "clear" it, "keep" the stored value,
    # or "" (not decided: the preview shows it, and writing is refused).
    blanks: str = ""
    # A row that looks like an existing record: "same" (update it), "new", or "" (not
    # decided); `duplicate_choices` decides row by row (row number -> "same" or "new").
    duplicates: str = ""
    duplicate_choices: dict = field(default_factory=dict)
    # The `ImportBatch` the write is recorded in (`batches.recording`), named in history.
    batch_id: int | None = None

    def duplicate_choice(self, number):
        return self.duplicate_choices.get(number) or self.duplicates

    @property
    def acting_user(self):
        """Whom `positions.editorial` is asked about: the user, or the operator."""
        return self.user if self.user is not None else _Operator(self.can_publish)

    @property
    def change_reason(self):
        # simple-history keeps at most 100 characters of reason: the batch's number stays.
        suffix = f" (import #{self.batch_id})" if self.batch_id else ""
        return f"Imported from {self.file_name or 'a file'}"[: 100 - len(suffix)] + suffix


@functools.cache
def unvalidated_fields(model):
    """Relations (resolved from prefetched maps) and fields editors never type."""
    return frozenset(f.name for f in model._meta.fields if f.is_relation or not f.editable)


@functools.cache
def choice_fields(model):
    """The validated fields with choices: checking a value walks the whole list (a country
    among 250, through the translation machinery), so each distinct value is checked once a
    file (`Planner.validate`)."""
    return tuple(f for f in model._meta.fields if f.choices and f.editable and not f.is_relation)


def choice_key(value):
    # By type too: None and the text "None" are not the same value.
    return type(value).__name__, str(value)


@functools.cache
def fields_by_name(model):
    return {f.name: f for f in model._meta.fields}


def message_of(error):
    """A validation message as text: `clean()` raising a dict of strings gives errors whose
    str() is a Python list (`['A membership cannot end before it starts.']`)."""
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


def is_blank(value):
    return value is None or value == "" or value == [] or value == ()


def shown(value):
    """A stored or parsed value as the preview shows it."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " | ".join(shown(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return " | ".join(str(value).splitlines()) if "\n" in str(value) else str(value)


def stored_value(instance, model_field):
    """The field's value as the instance (or a planner's plain row of it) holds it. Read
    without the field's descriptor when loaded: django-countries' builds a Country object (a
    translated lookup) on every read, where the stored code compares the same."""
    if isinstance(instance, tuple):  # a plain row (`matching.known_actors()`)
        return getattr(instance, model_field.attname)
    try:
        return instance.__dict__[model_field.attname]
    except KeyError:
        return getattr(instance, model_field.name)


def changed_fields(model, record, values):
    """The names of the fields of `values` whose value differs from `record`'s (a `model`
    instance or a plain row of one)."""
    changed = []
    fields = fields_by_name(model)
    for name, value in values.items():
        model_field = fields[name]
        if model_field.is_relation:
            # Compare ids: reading the related object could cost a query.
            current = getattr(record, model_field.attname)
            new = value.pk if value else None
        else:
            current, new = stored_value(record, model_field), value
        if current != new:
            changed.append(name)
    return changed


def apply(instance, values):
    """Set `values` on `instance`; return the names of the fields that changed."""
    changed = changed_fields(type(instance), instance, values)
    for name in changed:
        setattr(instance, name, values[name])
    return changed


class Planner:
    """Plans the rows of one file of `file_type` (a `columns.FileType`), for `context`."""

    # Fields whose cells the parsers already checked as strictly as the model would
    # (choices, dates): `validate()` does not check them twice.
    parsed_fields = frozenset()
    run_clean = True  # False where a type checks `clean()`'s rule on the loaded records

    def __init__(self, file_type, context):
        self.file_type = file_type
        self.context = context
        self.existing = {}  # key -> the stored record the row updates
        self.key = ""  # the key of the row being planned
        self.row_numbers = []  # the rows' numbers, as `prepare` gets them
        self.row_changes, self.row_clears = {}, []  # the diff of the row being planned
        self.valid_choices = {}  # field name -> the values that passed its validation

    # --- hooks ---------------------------------------------------------------------------

    def prepare(self, rows):
        keys = {self.row_key(r) for r in rows} - {""}
        key_field = self.file_type.key_column
        model = self.file_type.model
        self.existing = {
            getattr(r, key_field): r for r in model.objects.filter(**{f"{key_field}__in": keys})
        }

    def row_key(self, row):
        return row.get(self.file_type.key_column, "").strip()

    def key_errors(self, number, row, key):
        if key:
            return []
        return [RowError(number, self.file_type.key_column, "The key column cannot be empty.")]

    def new_instance(self, key, related):
        return self.file_type.model(**{self.file_type.key_column: key})

    def relate(self, number, instance, existing, changed, related, errors):
        """Compare the relations in `related` with `existing`'s; True if any changed.
        `instance` may be the stored record as `existing` holds it (a plain row) when no
        field changed: read it, do not write to it."""
        return False

    def record_of(self, existing):
        """The model instance of a stored record the row writes to: `existing` itself,
        unless a type keeps plain rows in `existing` (actors)."""
        return existing

    def check(self, number, instance, existing, errors):
        """Rules beyond the model's, for a row that writes something."""

    def match(self, number, key):
        """The key of the stored record the row updates: its own, unless a type matches
        otherwise (actors, by identifier). Returns (key, how it matched or "")."""
        return key, ""

    def duplicates_of(self, number, key, instance):
        """Existing records a new row may duplicate, unless the importer decided (actors)."""
        return []

    def label(self, model_field, pk):
        """A stored relation's id as the preview names it."""
        return f"#{pk}"

    def note_change(self, column, old, new):
        """Record an old -> new change of the row, and whether it clears a stored value.
        Returns False when the stored value is kept (the importer chose to keep blanks)."""
        if is_blank(new) and not is_blank(old):
            if self.context.blanks == "keep":
                return False
            self.row_clears.append(column)
        self.row_changes[column] = (shown(old), shown(new))
        return True

    def compare(self, instance, values):
        """The diff of an existing record's fields with the row's; drops kept blanks."""
        fields = fields_by_name(self.file_type.model)
        column_of = self.column_of_attribute
        kept = {}
        for name, value in values.items():
            model_field = fields[name]
            if model_field.is_relation:
                old_id, new_id = getattr(instance, model_field.attname), value.pk if value else None
                if old_id == new_id:
                    kept[name] = value
                    continue
                old = self.label(model_field, old_id) if old_id else ""
                if self.note_change(column_of.get(name, name), old, str(value) if value else ""):
                    kept[name] = value
                continue
            old = stored_value(instance, model_field)
            if old != value and not self.note_change(column_of.get(name, name), old, value):
                continue
            kept[name] = value
        return kept

    # --- the one planner -----------------------------------------------------------------

    def plan_row(self, number, row):
        """(RowPlan, []) for a row that imports, or (None, [RowError, ...])."""
        key = self.row_key(row)
        errors = self.key_errors(number, row, key)
        key, matched_by = self.match(number, key) if key else (key, "")
        self.key = key
        existing = self.existing.get(key)
        values, related = {}, {}
        for column, parse, model_field in self.cell_parsers:
            if column.name in row:
                self.parse_cell(
                    number, row, column, parse, model_field, existing, errors, values, related
                )
        if errors:
            return None, errors
        self.row_changes, self.row_clears = {}, []
        if existing is None:
            instance = self.new_instance(key, related)
            changed = apply(instance, values)
        else:
            values = self.compare(existing, values)
            model = self.file_type.model
            changed = changed_fields(model, existing, values)
            # A row that changes nothing is compared with the stored record as loaded: a
            # plain row needs no model instance (`record_of`) unless the row writes.
            instance = existing
            if changed:
                instance = self.record_of(existing)
                apply(instance, values)
        related_changed = self.relate(number, instance, existing, changed, related, errors)
        writes_something = existing is None or changed or related_changed
        if writes_something and instance is existing:
            instance = self.record_of(existing)  # a relation changed (`relate` may add
            # the field it names to `changed`, an actor's parent)
        if writes_something:
            # A row that writes nothing leaves the stored record as it is: the record's
            # rules were checked when it was written, and nothing here could break them.
            self.check(number, instance, existing, errors)
            self.validate(number, instance, errors)
        if errors:
            return None, errors
        action = "skip" if not writes_something else "new" if existing is None else "update"
        row_plan = RowPlan(number, key, action, instance, changed_fields=changed, related=related)
        row_plan.changes, row_plan.clears = self.row_changes, self.row_clears
        row_plan.matched_by = matched_by
        if action == "new":
            row_plan.candidates = self.duplicates_of(number, key, instance)
        return row_plan, []

    @functools.cached_property
    def column_of_attribute(self):
        return {c.attribute: c.name for c in self.file_type.columns}

    @functools.cached_property
    def cell_parsers(self):
        """Each column with its parser and the model field it sets (None for the key and
        the relations the type writes itself)."""
        fields = fields_by_name(self.file_type.model)
        parsers = []
        for column in self.file_type.columns:
            parse = getattr(self, f"parse_{column.name}", None) or column.parse
            if parse is not None:
                parsers.append((column, parse, fields.get(column.attribute)))
        return parsers

    def parse_cell(
        self, number, row, column, parse, model_field, existing, errors, values, related
    ):
        """Parse one cell into `values` (a field) or `related`; a bad cell is a `RowError`.
        A cell that reads exactly as the stored record's value is that value: parsing it
        again would give the same (a re-imported file is mostly such cells)."""
        text = row[column.name]
        if (
            existing is not None
            and model_field is not None
            and not model_field.is_relation
            and stored_value(existing, model_field) == text
        ):
            values[column.attribute] = text
            return
        try:
            value = parse(text)
        except BlankCell:
            return
        except CellError as error:
            errors.extend(RowError(number, column.name, m) for m in error.messages)
            return
        if column.attribute is None:
            related[column.name] = value
        else:
            values[column.attribute] = value

    def validate(self, number, instance, errors):
        """
        The model's own rules (field validators, `clean()`) without database queries:
        relations are resolved from the prepared maps, and uniqueness is the key's job.
        """
        if errors:
            return
        exclude = unvalidated_fields(type(instance)) | self.parsed_fields
        choices = [f for f in choice_fields(type(instance)) if f.name not in exclude]
        passed = {f.name for f in choices if self.seen_valid(f, instance)}
        methods = [lambda: instance.clean_fields(exclude=exclude | passed)]
        if self.run_clean:
            methods.append(instance.clean)
        failed = set()
        for method in methods:
            try:
                method()
            except ValidationError as error:
                for name, messages in error.update_error_dict({}).items():
                    failed.add(name)
                    column = "" if name == NON_FIELD_ERRORS else self.column_of(name)
                    errors.extend(RowError(number, column, message_of(m)) for m in messages)
        for model_field in choices:
            if model_field.name not in passed | failed:
                valid = self.valid_choices.setdefault(model_field.name, set())
                valid.add(choice_key(stored_value(instance, model_field)))

    def seen_valid(self, model_field, instance):
        """Whether the field's value already passed its validation in this file."""
        valid = self.valid_choices.get(model_field.name, ())
        return choice_key(stored_value(instance, model_field)) in valid

    def column_of(self, field_name):
        return field_name if field_name in self.file_type.names else ""
