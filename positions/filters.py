"""
The filters readers use on public lists. Invalid values never break a page: a field that does
not validate is left out of the filtering and its message is shown above the results.
"""

import functools
import html

import django_filters
from django import forms
from django.db import connection
from django.db.models.expressions import RawSQL
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import stances
from .models import (
    Actor,
    ActorKind,
    Question,
    Signatory,
    SourceKind,
    Stance,
    Statement,
    StatementCount,
    country_name,
)
from .search import MAX_SEARCH_LENGTH, actor_search, search_statements

# The distinct countries by hopping along the index from one to the next (a few hundred
# index lookups) instead of reading every actor as SELECT DISTINCT does. Each hop is the
# first public actor's country after the last one found.
COUNTRIES_IN_USE = """
WITH RECURSIVE found(country) AS (
    SELECT ({first})
    UNION ALL
    SELECT ({after_found}) FROM found WHERE found.country IS NOT NULL
)
SELECT country FROM found WHERE country IS NOT NULL
"""


def country_choices():
    """The countries some public actor belongs to (one query), by name: a short, useful list."""
    with connection.cursor() as cursor:
        cursor.execute(*countries_in_use_sql(connection.vendor))
        codes = [code for (code,) in cursor.fetchall()]
    return sorted(((code, country_name(code)) for code in codes), key=lambda c: c[1])


@functools.cache
def countries_in_use_sql(vendor):
    """
    `(sql, params)` of `country_choices`, made once per process and database engine: it is
    the same on every page, and the ORM took longer to write it than the database to run it.
    """
    countries = Actor.objects.public().order_by("country").values("country")
    first, first_params = countries.filter(country__gt="")[:1].query.sql_with_params()
    after = countries.filter(country__gt=RawSQL("found.country", ()))[:1]
    after_found, after_params = after.query.sql_with_params()
    sql = COUNTRIES_IN_USE.format(first=first, after_found=after_found)
    return sql, (*first_params, *after_params)


class ReadyChoices(BaseChoiceIterator):
    """
    Choices already in Django's normal form, `[(value, label)]`, which a field and its
    widget take as they are: each normalizes a plain list again, item by item, and for two
    hundred countries that cost a board more than reading them.
    """

    def __init__(self, choices):
        self.choices = list(choices)

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)


class FastSelect(forms.Select):
    """
    A `<select>` written out in Python. Django renders every option through a template of its
    own, which takes tens of milliseconds for the hundreds of questions of a filter; the HTML
    here is the same, escaped the same way.
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = [choice for choice in self.choices]  # noqa: C416 -- list() would COUNT first
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups
        selected = next((v for v in self.format_value(value) if v), "")
        options = []
        for option, label in choices:
            option = "" if option is None else str(option)
            options.append(
                f'<option value="{_escape(option)}"{" selected" if option == selected else ""}>'
                f"{_escape(label)}</option>"
            )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        # Each value and label is escaped above.
        options = mark_safe("".join(options))  # noqa: S308
        return format_html('<select name="{}"{}>{}</select>', name, attrs, options)


class FastInputMixin:
    """
    An `<input>` written out in Python, as `FastSelect` writes a `<select>`: Django renders
    each input through two templates of its own, which cost a board's filter form more than
    its select of two hundred countries. The same element, its attributes escaped the same
    way (in sorted order, as `flatatt` writes them).
    """

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            self.input_type,
            name,
            "" if value is None else format_html(' value="{}"', value),
            flatatt(self.build_attrs(self.attrs, attrs)),
        )


class FastTextInput(FastInputMixin, forms.TextInput):
    pass


class FastDateInput(FastInputMixin, forms.DateInput):
    def __init__(self, attrs=None, format=None):
        super().__init__({"type": "date", **(attrs or {})}, format)


class FastHiddenInput(FastInputMixin, forms.HiddenInput):
    pass


def _escape(text):
    """
    Django's conditional_escape without its checks for lazy strings, which cost more than the
    escaping itself over hundreds of options: safe strings as they are, the rest escaped.
    """
    return text.__html__() if hasattr(text, "__html__") else html.escape(str(text))


def question_choices(request=None):
    # With its topic: the chosen question's download links name the topic's slug.
    return Question.objects.select_related("topic").order_by("topic__title", "display_order", "pk")


class QuestionChoiceIterator(ModelChoiceIterator):
    """
    The options from narrow rows: building hundreds of questions and their topics as model
    instances to read three titles took longer than the rest of a list page.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list("pk", "topic__title", "title", "short_label")
        for pk, topic_title, title, short_label in rows:
            yield (pk, f"{topic_title}: {Question.label_of(title, short_label)}")


class QuestionChoiceField(forms.ModelChoiceField):
    iterator = QuestionChoiceIterator


class SearchField(forms.CharField):
    widget = FastTextInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_SEARCH_LENGTH)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class SlugField(forms.SlugField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)  # Actor.slug's length
        super().__init__(**kwargs)


class SlugFilter(django_filters.CharFilter):
    field_class = SlugField


class QuestionFilter(django_filters.ModelChoiceFilter):
    field_class = QuestionChoiceField


class CountriesOnceMixin:
    """
    Evaluate the country choices once per request, not for validation and again to render.
    The field puts its own "Any country" (`empty_label`) first.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["country"].choices = self.country_options()

    def country_options(self):
        """The countries offered (and accepted): those in use, for a page's menu."""
        return ReadyChoices(country_choices())

    # Fields whose value is no filter: the order of the list.
    NOT_FILTERS = frozenset({"sort"})

    @property
    def active(self):
        """
        Whether a filter really applies: a field that validated with a value. Unknown
        parameters, empty fields and ignored values (reported as notices) do not count.
        """
        return bool(self.applied_filters())

    def applied_filters(self):
        """`{name: value}` of the filters that really apply (see `active`)."""
        self.form.errors  # noqa: B018 -- validates the form, filling cleaned_data
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name not in self.NOT_FILTERS
            and name in self.applied_fields()
            and value not in (None, "", [], ())
        }

    def applied_fields(self):
        return set(self.form.cleaned_data)


class StatementFilter(CountriesOnceMixin, django_filters.FilterSet):
    q = SearchFilter(
        label="Search",
        method="filter_text",
        help_text="Words from the summary or quote, or an actor's name.",
    )
    question = QuestionFilter(
        queryset=question_choices, empty_label="Any question", widget=FastSelect
    )
    stance = django_filters.ChoiceFilter(
        choices=Stance.choices, empty_label="Any stance", widget=FastSelect
    )
    kind = django_filters.ChoiceFilter(
        label="Actor kind",
        choices=ActorKind.choices,
        method="filter_signatory",
        empty_label="Any kind",
        widget=FastSelect,
    )
    country = django_filters.ChoiceFilter(
        label="Actor country",
        choices=country_choices,
        method="filter_signatory",
        empty_label="Any country",
        widget=FastSelect,
    )
    source_kind = django_filters.ChoiceFilter(
        label="Source kind",
        field_name="source__kind",
        choices=SourceKind.choices,
        empty_label="Any source",
        widget=FastSelect,
    )
    date_from = django_filters.DateFilter(
        label="From",
        field_name="date",
        lookup_expr="gte",
        widget=FastDateInput,
    )
    date_to = django_filters.DateFilter(
        label="To",
        field_name="date",
        lookup_expr="lte",
        widget=FastDateInput,
    )
    actor = SlugFilter(
        label="Actor",
        method="filter_signatory",
        widget=FastHiddenInput,
    )
    # Sorting is limited to this allow-list; anything else is reported and ignored.
    sort = django_filters.OrderingFilter(
        label="Sort by",
        empty_label="Newest first",
        widget=FastSelect,
        fields=(("date", "date"), ("question__title", "question")),
        field_labels={"date": "Oldest first", "-date": "Newest first", "question": "Question"},
    )

    class Meta:
        model = Statement
        fields = []

    # The filters whose numbers `StatementCount` keeps.
    COUNTED_FILTERS = frozenset({"question", "stance"})

    def counted(self, statuses):
        """
        How many statements of these statuses the list shows, from `StatementCount` when
        nothing but a question and a stance filters it (the list unfiltered: a count of
        every statement otherwise); None for any other filter, which the list counts.
        """
        applied = self.applied_filters()
        if not applied.keys() <= self.COUNTED_FILTERS:
            return None
        question = applied.get("question")
        return StatementCount.counted(
            statuses, question_id=question and question.pk, stance=applied.get("stance")
        )

    def filter_text(self, statements, name, value):
        return search_statements(statements, value)

    def filter_signatory(self, statements, name, value):
        # A subquery rather than a join: a joint statement must not appear once per signatory.
        lookup = {"kind": "actor__kind", "country": "actor__country", "actor": "actor__slug"}
        signatures = Signatory.objects.filter(**{lookup[name]: value}).values("statement_id")
        return statements.filter(pk__in=signatures)

    def filter_queryset(self, statements):
        statements = super().filter_queryset(statements)
        if not self.form.cleaned_data.get("sort"):
            statements = statements.order_by("-date", "-pk")
        return statements


class ActorFilter(CountriesOnceMixin, django_filters.FilterSet):
    q = SearchFilter(
        label="Name",
        method="filter_name",
        help_text="Part of a name or of another name the actor is known by.",
    )
    kind = django_filters.ChoiceFilter(
        choices=ActorKind.choices, empty_label="Any kind", widget=FastSelect
    )
    country = django_filters.ChoiceFilter(
        choices=country_choices, empty_label="Any country", widget=FastSelect
    )
    question = QuestionFilter(
        label="Question",
        queryset=question_choices,
        empty_label="Any question",
        method="filter_position",
        widget=FastSelect,
    )
    stance = django_filters.ChoiceFilter(
        label="Current stance on that question",
        choices=Stance.choices,
        empty_label="Any stance",
        method="filter_position",
        widget=FastSelect,
    )

    class Meta:
        model = Actor
        fields = []

    def filter_name(self, actors, name, value):
        return actors.filter(actor_search(value))

    def filter_position(self, actors, name, value):
        # Applied once in filter_queryset, where question and stance are seen together.
        return actors

    def filter_queryset(self, actors):
        actors = super().filter_queryset(actors)
        question = self.form.cleaned_data.get("question")
        stance = self.form.cleaned_data.get("stance")
        if question:
            # Who holds a stance now (the current positions), not who ever said it.
            holders = stances.current_positions(question)
            if stance:
                holders = holders.filter(position_stance=stance)
            actors = actors.filter(pk__in=holders.values("actor_id"))
        return actors

    def applied_fields(self):
        # A stance without a question is not applied (see `notices`).
        fields = set(self.form.cleaned_data)
        if not self.form.cleaned_data.get("question"):
            fields.discard("stance")
        return fields

    @property
    def notices(self):
        """Advice about a combination that cannot be applied as asked."""
        self.form.errors  # noqa: B018 -- validates the form, filling cleaned_data
        data = self.form.cleaned_data
        if data.get("stance") and not data.get("question"):
            return ["A stance filter needs a question: choose one to see who holds that stance."]
        return []
