"""
Geometry for the server-rendered SVG chart of stance counts over time. The numbers are a
question's `StanceCountDay` rows (`stances.stance_counts_over_time`); `chart_rows` reads the
few hundred of them a chart draws, and the rest of this module turns them into coordinates.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Func, IntegerField
from django.db.models.functions import Greatest, TruncMonth

from .models import Stance, StanceCountDay
from .stances import STANCE_ORDER

WIDTH, HEIGHT = 680, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 200, 16, 36
PLOT_WIDTH = WIDTH - LEFT - RIGHT
# Each stance has its own dash pattern and an end label, so lines differ without colour.
DASHES = {
    Stance.SUPPORTS: "",
    Stance.CONDITIONAL: "8 4",
    Stance.OPPOSES: "2 3",
    Stance.UNDECIDED: "12 4 2 4",
}


@dataclass
class Line:
    stance: str
    label: str
    points: str
    dash: str
    end_x: float
    end_y: float
    last: int


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    lines: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)  # (y, value)
    x_ticks: list = field(default_factory=list)  # (x, label)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    start: datetime.date | None = None  # the first and last day of the data drawn
    end: datetime.date | None = None


def span_days(days):
    """
    The days the plot spans for data `days` long: the lines run on a little past the last
    change, so that its step shows (a single day of changes still draws across the plot).
    """
    return max(days * 11 // 10, days + 1)


def column(day_number, span):
    """
    The plot column (0 to PLOT_WIDTH) of the day `day_number` days after the first of a
    plot spanning `span` days: whole units, rounded half to even as Python's `round`, so
    that years of daily changes share a few hundred columns and `_simplify` drops the
    points in between (a board of ten thousand actors changes on thousands of days).
    """
    return round(PLOT_WIDTH * day_number / span)


# `column` in SQL, for `chart_rows`, which reads only the rows the chart draws: in
# integers, `whole` and `rest` the quotient and remainder of PLOT_WIDTH * day / span. The
# tests hold the two equal. (`%%`: the modulo, in SQL that takes parameters.)
COLUMN_SQL = (
    "{whole} + CASE WHEN 2 * {rest} > {span} THEN 1"
    " WHEN 2 * {rest} = {span} THEN {whole} %% 2 ELSE 0 END"
)


# `span_days` in SQL, of `{days}`.
SPAN_SQL = "CASE WHEN {days} * 11 / 10 > {days} + 1 THEN {days} * 11 / 10 ELSE {days} + 1 END"


class DayNumber(Func):
    """A date as a whole number of days (since 1970), on SQLite as on PostgreSQL."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - DATE '1970-01-01')", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(julianday({sql}) - 2440587.5 AS INTEGER)", params


def chart_rows(question, as_of=None):
    """
    The rows of `stance_counts_over_time(question, as_of)` that the chart and its month
    table draw, and the highest count of all: `([(date, {stance: count})], top_value)`.
    They are the first row, the last of each plot column (`column`; a column's other rows
    only draw within it, and `_last_of_each_column` drops them) and the last of each month:
    at most a few hundred, however many days the counts changed on, picked in one query.
    `stance_chart(*chart_rows(q))` is `stance_chart(stance_counts_over_time(q))`, and the
    month table the same (the tests hold both).
    """
    days = StanceCountDay.objects.filter(question=question)
    if as_of is not None:
        days = days.filter(day__lte=as_of)
    numbered_sql, params = (
        days.order_by()
        .annotate(
            day_number=DayNumber("day"), month=TruncMonth("day"), highest=Greatest(*STANCE_ORDER)
        )
        .values("day", *STANCE_ORDER, "day_number", "month", "highest")
        .query.sql_with_params()
    )
    offset = "(n.day_number - b.first_number)"
    # One step per level, each naming what the next reads; the rows kept are the first and
    # those whose next row by day lies in another column or month.
    sql = (
        f"WITH numbered AS ({numbered_sql}),"  # noqa: S608
        " bounds AS (SELECT MIN(day_number) AS first_number, MAX(highest) AS top,"
        f" {SPAN_SQL.format(days='(MAX(day_number) - MIN(day_number))')} AS span"
        " FROM numbered),"
        f" divided AS (SELECT n.*, b.top, b.span, {PLOT_WIDTH} * {offset} / b.span AS whole,"
        f" {PLOT_WIDTH} * {offset} %% b.span AS rest FROM numbered n CROSS JOIN bounds b),"
        " placed AS (SELECT divided.*,"
        f" {COLUMN_SQL.format(whole='whole', rest='rest', span='span')} AS plot_column"
        " FROM divided),"
        " followed AS (SELECT placed.*, LAG(day) OVER by_day AS day_before,"
        " LEAD(plot_column) OVER by_day AS next_column, LEAD(month) OVER by_day AS next_month"
        " FROM placed WINDOW by_day AS (ORDER BY day))"
        f" SELECT day, {', '.join(STANCE_ORDER)}, top FROM followed"
        " WHERE day_before IS NULL OR next_column IS NULL OR next_column <> plot_column"
        " OR next_month <> month ORDER BY day"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # A raw cursor skips the ORM's converters: the field turns SQLite's text back into a date.
    to_date = StanceCountDay._meta.get_field("day").to_python
    series = [
        (to_date(day), dict(zip(STANCE_ORDER, numbers, strict=True)))
        for day, *numbers, _top in rows
    ]
    return series, (rows[0][-1] if rows else None)


def stance_chart(series, top_value=None):
    """
    Step lines for `series` = `[(date, {stance: count})]` (oldest first), over the range of
    the data: from its first change to its last, not to the board's day (running to today
    squashed years of history to the left). `top_value`, the highest count, when `series`
    holds only the rows drawn (`chart_rows`). None when there is nothing to draw.
    """
    if not series:
        return None
    start = series[0][0]
    end = series[-1][0]
    span = span_days((end - start).days)
    if top_value is None:
        top_value = max(max(counts.values()) for _, counts in series)
    top_value = top_value or 1
    plot_h = HEIGHT - TOP - BOTTOM

    def x(day):
        # LEFT is even: rounded half to even before it is added or after, the same column.
        return LEFT + column((day - start).days, span)

    def y(value):
        return round(TOP + plot_h * (1 - value / top_value), 1)

    chart = Chart()
    drawn = _last_of_each_column([(x(day), counts) for day, counts in series])
    heights = {}  # value -> y, computed once: the lines share a few heights
    for stance in STANCE_ORDER:
        points, previous = [], None
        for px, counts in drawn:
            value = counts.get(stance, 0)
            if value not in heights:
                heights[value] = y(value)
            if previous is not None:
                points.append((px, heights[previous]))
            points.append((px, heights[value]))
            previous = value
        points.append((x(start + datetime.timedelta(days=span)), y(previous)))
        chart.lines.append(
            Line(
                stance=stance,
                label=Stance(stance).label,
                points=" ".join(f"{px},{py}" for px, py in _simplify(points)),
                dash=DASHES[stance],
                end_x=LEFT + PLOT_WIDTH + 6,
                end_y=y(previous) + 4,
                last=previous,
            )
        )
    _spread_labels(chart.lines)
    step = max(1, -(-top_value // 4))
    chart.y_ticks = [(y(v), v) for v in range(0, top_value + 1, step)]
    chart.x_ticks = [(x(start), _short(start))]
    if end != start:
        chart.x_ticks.append((x(end), _short(end)))
    chart.start, chart.end = start, end
    return chart


def _last_of_each_column(placed):
    """
    The points of `placed` = `[(x, counts)]` the lines can show: the first, and the last of
    each column x. Within a column the step lines only run up and down, and `_simplify`
    keeps the first and last height of such a run: the lines draw the same path as from
    every day, built from at most a few hundred points instead of one per day of changes.
    """
    drawn = []
    for point in placed:
        if len(drawn) > 1 and drawn[-1][0] == point[0]:
            drawn[-1] = point
        else:
            drawn.append(point)
    return drawn


def _simplify(points):
    """The same polyline without the points in the middle of a vertical or horizontal run."""
    kept = []
    for point in points:
        if kept and point == kept[-1]:
            continue
        if len(kept) >= 2 and (
            kept[-2][0] == kept[-1][0] == point[0] or kept[-2][1] == kept[-1][1] == point[1]
        ):
            kept[-1] = point
        else:
            kept.append(point)
    return kept


def _spread_labels(lines, gap=13):
    """End labels of lines ending at the same height would overlap: push them apart."""
    placed = []
    for line in sorted(lines, key=lambda line: line.end_y):
        if placed and line.end_y - placed[-1].end_y < gap:
            line.end_y = round(placed[-1].end_y + gap, 1)
        placed.append(line)


def _short(day: datetime.date):
    return day.strftime("%-d %b %Y")
