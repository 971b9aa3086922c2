"""
The import preview as a diff, for the admin (templates/admin/import_export/import.html):
totals first; each changed row with its changed fields old -> new, clearings marked; new
rows, likely duplicates with their candidates; unchanged rows only counted; every error in
full text with its row and column. Long lists show their first rows and count the rest, so
the page stays readable for a file of 20,000 rows.
"""

from dataclasses import dataclass

# Rows shown per list; the rest are counted (the command line's --dry-run lists more).
SHOWN = 100
ERRORS_SHOWN = 500

BLANK_CHOICES = [
    ("clear", "Clear these fields"),
    ("keep", "Keep current values"),
]
DUPLICATE_CHOICES = [
    ("same", "Same actor: the row updates it, adding its identifiers"),
    ("new", "New actor"),
]
DUPLICATE_FIELD_PREFIX = "duplicate-"


@dataclass
class Change:
    column: str
    old: str
    new: str
    clears: bool


@dataclass
class ShownRow:
    number: int
    key: str
    matched_by: str
    changes: list
    candidates: list
    field_name: str = ""


def _shown(plan):
    return ShownRow(
        number=plan.number,
        key=plan.key,
        matched_by=plan.matched_by,
        changes=[
            Change(column, old, new, column in plan.clears)
            for column, (old, new) in plan.changes.items()
        ],
        candidates=plan.candidates,
        field_name=f"{DUPLICATE_FIELD_PREFIX}{plan.number}",
    )


class Preview:
    def __init__(self, report):
        self.kind = report.kind
        self.totals = report.totals()
        changed = [p for p in report.plans if p.action == "update"]
        new = [p for p in report.plans if p.action == "new" and not p.flagged]
        self.changed = [_shown(p) for p in changed[:SHOWN]]
        self.more_changed = max(len(changed) - SHOWN, 0)
        self.new = [_shown(p) for p in new[:SHOWN]]
        self.more_new = max(len(new) - SHOWN, 0)
        self.flagged = [_shown(p) for p in report.flagged[:SHOWN]]
        self.flagged_count = len(report.flagged)
        self.more_flagged = max(len(report.flagged) - SHOWN, 0)
        self.clearing_count = len(report.clearing)
        self.cleared_columns = sorted({c for p in report.clearing for c in p.clears})
        self.errors = report.errors[:ERRORS_SHOWN]
        self.more_errors = max(len(report.errors) - ERRORS_SHOWN, 0)
        self.written = report.written

    @property
    def needs_choice(self):
        return bool(self.clearing_count or self.flagged_count)
