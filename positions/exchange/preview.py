"""
The import preview as a diff, for the admin (templates/admin/import_export/import.html):
totals first; each changed row with its changed fields old -> new, clearings marked; new
rows, likely duplicates with their candidates; unchanged rows only counted; every error in
full text with its row and column. Long lists show their first rows and count the rest, so
the page stays readable for a file of 20,000 rows.
"""

# Rows shown per list; the rest are counted (the command line's --dry-run lists more).
SHOWN = 100
ERRORS_SHOWN = 500
# Of those, the first are open on the page and the others folded under a "show more", so
# the page stays a few screens long whatever the file's size.
OPEN_ROWS = 20
OPEN_ERRORS = 100

BLANK_CHOICES = [
    ("clear", "Clear these fields"),
    ("keep", "Keep current values"),
]
DUPLICATE_CHOICES = [
    ("same", "Same actor: the row updates it, adding its identifiers"),
    ("new", "New actor"),
]
DUPLICATE_FIELD_PREFIX = "duplicate-"
CLEAR_OR_KEEP = {value for value, _ in BLANK_CHOICES}
SAME_OR_NEW = {value for value, _ in DUPLICATE_CHOICES}


def _shown(plan):
    """One row as the preview shows it: plain values, so a background job can store it."""
    return {
        "number": plan.number,
        "key": plan.key,
        "matched_by": plan.matched_by,
        "changes": [
            {"column": column, "old": old, "new": new, "clears": column in plan.clears}
            for column, (old, new) in plan.changes.items()
        ],
        "candidates": [{"pk": c.pk, "name": c.name, "slug": c.slug} for c in plan.candidates],
        "field_name": f"{DUPLICATE_FIELD_PREFIX}{plan.number}",
    }


class Preview:
    """
    What the preview shows of an import's report. `data` holds only JSON values: a
    background import stores it with its job (`jobs.py`) and shows it with `from_data`.
    """

    # What a job stored before its preview was a diff shows: nothing to choose.
    totals, changed, new, flagged, errors, cleared_columns = {}, [], [], [], [], []
    more_changed = more_new = flagged_count = more_flagged = clearing_count = more_errors = 0
    written = False

    def __init__(self, report=None, data=None):
        self.data = self._of(report) if report is not None else dict(data or {})
        for name, value in self.data.items():
            setattr(self, name, value)

    @classmethod
    def from_data(cls, data):
        return cls(data=data)

    @staticmethod
    def _of(report):
        changed = [p for p in report.plans if p.action == "update"]
        new = [p for p in report.plans if p.action == "new" and not p.flagged]
        return {
            "kind": report.kind,
            "totals": report.totals(),
            "changed": [_shown(p) for p in changed[:SHOWN]],
            "more_changed": max(len(changed) - SHOWN, 0),
            "new": [_shown(p) for p in new[:SHOWN]],
            "more_new": max(len(new) - SHOWN, 0),
            "flagged": [_shown(p) for p in report.flagged[:SHOWN]],
            "flagged_count": len(report.flagged),
            "more_flagged": max(len(report.flagged) - SHOWN, 0),
            "clearing_count": len(report.clearing),
            "cleared_columns": sorted({c for p in report.clearing for c in p.clears}),
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message}
                for e in report.errors[:ERRORS_SHOWN]
            ],
            "more_errors": max(len(report.errors) - ERRORS_SHOWN, 0),
            "written": report.written,
        }

    @property
    def changed_open(self):
        return self.changed[:OPEN_ROWS]

    @property
    def changed_folded(self):
        return self.changed[OPEN_ROWS:]

    @property
    def errors_open(self):
        return self.errors[:OPEN_ERRORS]

    @property
    def errors_folded(self):
        return self.errors[OPEN_ERRORS:]

    @property
    def needs_choice(self):
        return bool(self.clearing_count or self.flagged_count)

    # The confirm form's options, for the templates.
    blank_choices = BLANK_CHOICES
    duplicate_choices = DUPLICATE_CHOICES


def choices_from(data):
    """The editor's answers in a posted confirm form: what `ImportContext` takes."""
    per_row = {}
    for name, value in data.items():
        number = name.removeprefix(DUPLICATE_FIELD_PREFIX)
        if name.startswith(DUPLICATE_FIELD_PREFIX) and number.isdigit() and value in SAME_OR_NEW:
            per_row[int(number)] = value
    blanks = data.get("blanks", "")
    duplicates = data.get("duplicates", "")
    return {
        "blanks": blanks if blanks in CLEAR_OR_KEEP else "",
        "duplicates": duplicates if duplicates in SAME_OR_NEW else "",
        "duplicate_choices": per_row,
    }


def missing_choices(preview, choices):
    """What the editor has yet to choose before `preview`'s import may be written."""
    missing = []
    if preview.clearing_count and not choices["blanks"]:
        missing.append(
            "Choose whether to clear the fields that the file's empty cells would clear, or "
            "to keep their current values."
        )
    chosen = choices["duplicate_choices"]
    rows = [row["number"] for row in preview.flagged]
    every_row_chosen = not preview.more_flagged and all(n in chosen for n in rows)
    if preview.flagged_count and not choices["duplicates"] and not every_row_chosen:
        missing.append(
            "Choose, for the rows that look like existing actors, whether each is the same "
            "actor or a new one."
        )
    return missing
