"""
The domain of Position Tracker: actors take dated, sourced stances on the questions of a topic.

Positions are derived from published statements by the rules in `positions/stances.py`; the
`Position` table keeps the current one of each actor, rewritten from the record on every
write. The vocabularies are `TextChoices` enforced by database constraints.
"""

import datetime
import functools
import math
import re
from urllib.parse import quote

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django_countries import countries
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

http_url_validator = URLValidator(
    schemes=["http", "https"],
    message="Enter a full web address starting with http:// or https://.",
)


class FieldRuleConstraint(models.CheckConstraint):
    """
    A CheckConstraint that repeats a rule the model already validates (a field's choices or
    validators, `clean()`), so that the database refuses what slips past Python. Validating
    it again would cost forms and imports a query per constraint and record, to say what the
    field has said already, with a vaguer message.
    """

    def validate(self, *args, **kwargs):
        return None

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs


def choices_constraint(field, choices, name):
    """A CheckConstraint that makes the database refuse values outside `choices`."""
    return FieldRuleConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


def http_url_constraint(field, name):
    """The database side of `http_url_validator`: blank, or an http(s) address."""
    return FieldRuleConstraint(
        condition=Q(**{field: ""})
        | Q(**{f"{field}__istartswith": "http://"})
        | Q(**{f"{field}__istartswith": "https://"}),
        name=name,
    )


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# --- Actors ----------------------------------------------------------------------------


class ActorKind(models.TextChoices):
    STATE = "state", "State"
    GOVERNMENT = "government", "Government or agency"
    LEGISLATOR = "legislator", "Legislator"
    LEGISLATIVE_GROUP = "legislative_group", "Legislative group or party"
    COMPANY = "company", "Company"
    NGO = "ngo", "NGO or civil-society group"
    INTERGOVERNMENTAL = "intergovernmental", "Intergovernmental body"
    EXPERT = "expert", "Individual expert"
    MEDIA = "media", "Media"

    @property
    def is_person(self):
        return self in {ActorKind.LEGISLATOR, ActorKind.EXPERT}


@functools.cache
def country_name(code):
    """
    The name of a country. django-countries looks it up through its translation machinery at
    every call, tens of microseconds, which a board of a hundred actors pays a hundred times;
    the site speaks one language (USE_I18N is off), so each name is looked up once a process.
    """
    return countries.name(code)


class ActorQuerySet(models.QuerySet):
    def public(self):
        """
        Actors readers may see: those a public statement names, and those no statement names
        at all (a chamber, a party, a government: bodies whose members speak). An actor named
        only by drafts stays hidden, like a source or a condition only drafts use, until a
        statement naming it is published: its name alone could reveal the draft.
        """
        # The hidden ones, from the few draft signatures (an index on status finds them) rather
        # than a look at every actor's statements.
        named_in_public = Signatory.objects.filter(
            actor=OuterRef("actor_id"), statement__status__in=PUBLIC_STATUSES
        )
        hidden = Signatory.objects.filter(statement__status=StatementStatus.DRAFT).exclude(
            Exists(named_in_public)
        )
        return self.exclude(pk__in=hidden.values("actor_id"))

    def with_public_parent(self):
        """`has_public_parent` on each actor: whether it has a parent and readers may see it
        (a page or download leaves out a "part of" that `public()` hides)."""
        parent = Actor.objects.public().filter(pk=OuterRef("parent_id"))
        return self.annotate(has_public_parent=Exists(parent))


class Actor(TimestampedModel):
    name = models.CharField(max_length=200, db_index=True)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="Stable identifier used in web addresses and imports. Do not change it "
        "once the actor is public.",
    )
    kind = models.CharField(max_length=32, choices=ActorKind.choices)
    country = CountryField(
        blank=True,
        db_index=True,  # The filters list the countries in use (filters.country_choices).
        help_text="The country the actor belongs to, if any (ISO 3166-1).",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="The body this actor belongs to: a senator's chamber, an agency's "
        "government, a group's coalition.",
    )
    aliases = models.TextField(
        blank=True,
        help_text="Other names readers may search for, one per line "
        "(abbreviations, former names, spellings in other languages).",
    )
    description = models.TextField(
        blank=True, help_text="One or two neutral sentences saying who this is."
    )
    website = models.URLField(max_length=500, blank=True, validators=[http_url_validator])
    # The name and aliases without case or accents (`positions.folding`), kept by the write
    # path: what search, import matching and the duplicate check compare.
    folded_name = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    folded_aliases = models.TextField(blank=True, editable=False)
    history = HistoricalRecords()

    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            choices_constraint("kind", ActorKind, "actor_kind_valid"),
            http_url_constraint("website", "actor_website_http"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("positions:actor", args=[self.slug])

    @property
    def country_name(self):
        return country_name(self.country.code) if self.country else ""

    @property
    def alias_list(self):
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    def clean(self):
        # A parent chain that loops back would make "members" and breadcrumbs endless.
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": "An actor cannot belong to itself."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class ActorIdentifier(models.Model):
    """An identifier of an actor in another register (Popolo `identifier`)."""

    # Where a scheme has a public page per identifier, readers get a link to it.
    LINKS = {
        "wikidata": "https://www.wikidata.org/wiki/{}",
        "bioguide": "https://bioguide.congress.gov/search/bio/{}",
        "opencorporates": "https://opencorporates.com/companies/{}",
    }
    FORMATS = {
        "wikidata": (re.compile(r"^Q[1-9][0-9]*$"), "A Wikidata item id looks like Q42."),
        "bioguide": (re.compile(r"^[A-Z][0-9]{6}$"), "A Bioguide id looks like W000779."),
        "iso3166": (re.compile(r"^[A-Z]{2}$"), "An ISO 3166-1 code is two capitals, like FR."),
    }

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.SlugField(
        max_length=50,
        help_text="The register: wikidata, bioguide, ocd-person, opencorporates, ...",
    )
    identifier = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "identifier"], name="identifier_unique_per_scheme"
            ),
        ]

    def __str__(self):
        return f"{self.scheme}: {self.identifier}"

    @property
    def url(self):
        template = self.LINKS.get(self.scheme)
        return template.format(quote(self.identifier, safe="")) if template else ""

    def clean(self):
        pattern, message = self.FORMATS.get(self.scheme, (None, ""))
        if pattern and not pattern.match(self.identifier or ""):
            raise ValidationError({"identifier": message})


def validate_subdivision(code):
    """An ISO 3166-2 subdivision code that pycountry knows: 'US-OR', 'FR-75C'."""
    if pycountry.subdivisions.get(code=code) is None:
        raise ValidationError(
            f"“{code}” is not an ISO 3166-2 subdivision code. Use a code such as US-OR "
            "(the state of Oregon) or GB-SCT (Scotland)."
        )


class MembershipQuerySet(models.QuerySet):
    def on(self, date):
        """
        Memberships held on `date`. Both ends are inclusive: a membership that starts on a
        day counts that day, one that ends on a day still counts that day (its last). An
        unknown start (blank) means "since before anything we record"; no end, "still held".
        """
        return self.filter(Q(start_date__isnull=True) | Q(start_date__lte=date)).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=date)
        )

    def of(self, organization):
        return self.filter(organization=organization)


class Membership(TimestampedModel):
    """
    An actor's dated membership of an organisation-actor (Popolo `membership`): a senator in
    the Senate, a state in a bloc, a group in a coalition. A membership never gives an actor
    a stance: positions come from the actor's own statements only.
    """

    member = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Actor,
        on_delete=models.PROTECT,
        related_name="memberships_in",
        help_text="The chamber, party, bloc, coalition or committee the actor belongs to.",
    )
    role = models.CharField(
        max_length=100,
        default="member",
        help_text="In lower case, as the organisation says it: member, chair, vice-chair, "
        "ranking member, president, observer.",
    )
    on_behalf_of = models.ForeignKey(
        Actor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="on behalf of",
        help_text="For a legislator: the party it sits for in this chamber. A change of party "
        "is a new membership, with the old one ended the day before.",
    )
    area = models.CharField(
        max_length=6,
        blank=True,
        validators=[validate_subdivision],
        help_text="The state, region or district the membership is for, as an ISO 3166-2 code: "
        "US-OR for Oregon.",
    )
    start_date = models.DateField(
        null=True, blank=True, help_text="The first day. Leave blank if no source gives it."
    )
    end_date = models.DateField(
        null=True, blank=True, help_text="The last day it was held. Blank while it lasts."
    )
    source = models.ForeignKey(
        "Source",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text="The document that states the membership.",
    )
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "start_date", "pk"]  # No join: pages sort by name.
        constraints = [
            # `clean()`'s rules, kept by the database too.
            FieldRuleConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="membership_ends_after_start",
                violation_error_message="A membership cannot end before it starts.",
            ),
            FieldRuleConstraint(
                condition=~Q(member=F("organization")),
                name="membership_not_of_itself",
                violation_error_message="An actor cannot be a member of itself.",
            ),
            FieldRuleConstraint(condition=~Q(role=""), name="membership_has_role"),
            models.UniqueConstraint(
                fields=["member", "organization", "role", "start_date"],
                name="membership_once",
                violation_error_message="This actor already has this role there from that day.",
            ),
            # NULLs are distinct to a unique index: one undated membership per role, too.
            models.UniqueConstraint(
                fields=["member", "organization", "role"],
                condition=Q(start_date__isnull=True),
                name="membership_undated_once",
                violation_error_message="This actor already has this role there, undated.",
            ),
        ]
        indexes = [
            # The whip count and the organisation page: an organisation's members on a day.
            models.Index(fields=["organization", "start_date"], name="membership_org_idx"),
        ]

    def __str__(self):
        # Names when the actors are loaded (the admin joins them); ids otherwise, since a
        # history page builds one membership per version and would query for each.
        if Membership.member.is_cached(self) and Membership.organization.is_cached(self):
            return f"{self.member} · {self.role} of {self.organization}"
        return f"{self.role} (actor {self.member_id} in actor {self.organization_id})"

    @property
    def area_name(self):
        subdivision = pycountry.subdivisions.get(code=self.area) if self.area else None
        return subdivision.name if subdivision else self.area

    def clean(self):
        errors = {}
        self.area = (self.area or "").strip().upper()
        self.role = (self.role or "").strip()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "A membership cannot end before it starts."
        if self.member_id and self.member_id == self.organization_id:
            errors["organization"] = "An actor cannot be a member of itself."
        if self.member_id and self.member_id == self.on_behalf_of_id:
            errors["on_behalf_of"] = "An actor cannot sit on its own behalf."
        if errors:
            raise ValidationError(errors)


# --- Topics and questions --------------------------------------------------------------


class Topic(TimestampedModel):
    title = models.CharField(max_length=300, help_text="The instrument or policy tracked.")
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(blank=True, help_text="What it is, in a few sentences.")
    entry_into_force_count = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For a treaty: how many ratifications (or acceptances, approvals, "
        "accessions, successions) bring it into force, e.g. 40. Blank: no rule shown.",
    )
    entry_into_force_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How many days after that consent it enters into force, e.g. 90.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("positions:topic", args=[self.slug])


class ThresholdKind(models.TextChoices):
    """
    How many votes a question's deciding body needs. A fraction of the members present (two
    thirds of the senators present and voting) is out of scope: attendance is not recorded,
    so enter the fraction of seats, the count at full attendance.
    """

    MAJORITY = "majority", "Simple majority of seats (more than half)"
    FRACTION = "fraction", "Fraction of seats (e.g. two thirds)"
    COUNT = "count", "A number of votes or ratifications (e.g. 40)"


class Question(TimestampedModel):
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions")
    title = models.CharField(
        max_length=300,
        help_text="The decision actors take positions on, e.g. "
        "'Ratification by the United States'.",
    )
    short_label = models.CharField(
        max_length=80, blank=True, help_text="A short name for tables and charts."
    )
    slug = models.SlugField(max_length=200, help_text="Unique within the topic.")
    description = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(
        default=0, help_text="Questions of a topic are listed from the lowest number."
    )
    deciding_body = models.ForeignKey(
        Actor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questions_decided",
        help_text="The organisation that takes the decision (the US Senate, the UN member "
        "states): its members on a date are its memberships on that date. The board then "
        "shows a whip count.",
    )
    threshold_kind = models.CharField(
        "rule",
        max_length=16,
        choices=ThresholdKind.choices,
        blank=True,
        help_text="How many of the body's votes the decision needs. Votes of the members "
        "present are not modelled: give the rule as a share of all seats.",
    )
    threshold_numerator = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a fraction of seats: 2 in two thirds."
    )
    threshold_denominator = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a fraction of seats: 3 in two thirds."
    )
    threshold_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a number: the votes or ratifications needed, e.g. 40."
    )
    seats = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The number of seats of the body (100 for the US Senate), for a majority or a "
        "fraction of seats.",
    )
    history = HistoricalRecords()

    class Meta:
        # No join: pages and the admin that list questions by topic title say so.
        ordering = ["topic_id", "display_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "slug"], name="question_slug_per_topic"),
            FieldRuleConstraint(
                condition=Q(threshold_kind="") | Q(threshold_kind__in=ThresholdKind.values),
                name="question_threshold_kind_valid",
            ),
            # `clean()`'s rules: each kind of rule has what it needs to give a number.
            FieldRuleConstraint(
                condition=Q(threshold_kind="") | Q(deciding_body__isnull=False),
                name="question_threshold_has_body",
            ),
            FieldRuleConstraint(
                # NULL > 0 is unknown, which a CHECK lets through: hence the isnull tests.
                condition=~Q(threshold_kind=ThresholdKind.MAJORITY)
                | Q(seats__isnull=False, seats__gt=0),
                name="question_majority_has_seats",
            ),
            FieldRuleConstraint(
                condition=~Q(threshold_kind=ThresholdKind.FRACTION)
                | Q(
                    seats__isnull=False,
                    threshold_numerator__isnull=False,
                    threshold_denominator__isnull=False,
                    seats__gt=0,
                    threshold_numerator__gt=0,
                    threshold_denominator__gte=F("threshold_numerator"),
                ),
                name="question_fraction_complete",
            ),
            FieldRuleConstraint(
                condition=~Q(threshold_kind=ThresholdKind.COUNT)
                | Q(threshold_count__isnull=False, threshold_count__gt=0),
                name="question_count_positive",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("positions:question", args=[self.topic.slug, self.slug])

    @property
    def label(self):
        return self.label_of(self.title, self.short_label)

    @staticmethod
    def label_of(title, short_label):
        """What menus and headings call a question: its short label if it has one."""
        return short_label or title

    def threshold(self):
        """
        The votes the decision needs, or None without a rule. A fraction of seats rounds up
        ("at least two thirds": 2/3 of 100 is 66.67, so 67); a simple majority is more than
        half, floor(seats / 2) + 1 (51 of 100, 51 of 101); a count is itself.
        """
        if self.threshold_kind == ThresholdKind.MAJORITY:
            return self.seats // 2 + 1
        if self.threshold_kind == ThresholdKind.FRACTION:
            return math.ceil(self.seats * self.threshold_numerator / self.threshold_denominator)
        if self.threshold_kind == ThresholdKind.COUNT:
            return self.threshold_count
        return None

    @property
    def threshold_description(self):
        """The rule in words: 'two thirds of 100 seats', 'more than half of 100 seats'."""
        if self.threshold_kind == ThresholdKind.MAJORITY:
            return f"more than half of {self.seats} seats"
        if self.threshold_kind == ThresholdKind.FRACTION:
            return f"{self.threshold_numerator}/{self.threshold_denominator} of {self.seats} seats"
        if self.threshold_kind == ThresholdKind.COUNT:
            return f"{self.threshold_count} votes"
        return ""

    def clean(self):
        errors = {}
        kind = self.threshold_kind
        if kind and self.deciding_body_id is None:
            errors["deciding_body"] = "A rule needs the body that decides."
        if kind in {ThresholdKind.MAJORITY, ThresholdKind.FRACTION} and not self.seats:
            errors["seats"] = "Give the number of seats the rule counts from."
        if kind == ThresholdKind.FRACTION:
            numerator, denominator = self.threshold_numerator, self.threshold_denominator
            if not numerator or not denominator:
                errors["threshold_numerator"] = "A fraction needs a numerator and a denominator."
            elif numerator > denominator:
                errors["threshold_numerator"] = "A share of seats cannot be more than all of them."
        if kind == ThresholdKind.COUNT and not self.threshold_count:
            errors["threshold_count"] = "Give the number of votes needed."
        if errors:
            raise ValidationError(errors)


# --- Evidence ----------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    NEWS_REPORT = "news_report", "News report"
    LETTER = "letter", "Letter"
    PRESS_RELEASE = "press_release", "Press release"
    OFFICIAL_STATEMENT = "official_statement", "Official statement"
    SPEECH = "speech", "Speech"
    TESTIMONY = "testimony", "Testimony"
    VOTE_RECORD = "vote_record", "Vote record"
    REPORT = "report", "Report"
    SOCIAL_MEDIA = "social_media", "Social-media post"
    OTHER = "other", "Other"


class SourceQuerySet(models.QuerySet):
    def public(self):
        """Sources a public statement cites: a source's title alone could reveal draft work."""
        return self.filter(pk__in=Statement.objects.public().values("source_id"))


class Source(TimestampedModel):
    title = models.CharField(max_length=500)
    publisher = models.CharField(
        max_length=300, blank=True, help_text="Leave blank if the document does not say."
    )
    kind = models.CharField(max_length=32, choices=SourceKind.choices)
    url = models.URLField(
        "URL",
        max_length=1000,
        blank=True,
        validators=[http_url_validator],
        help_text="Where readers can read the document (http or https). Leave blank only "
        "for a document that is not online; title, publisher and date then identify it.",
    )
    archive_url = models.URLField(
        "archive URL",
        max_length=1000,
        blank=True,
        validators=[http_url_validator],
        help_text="A copy in a web archive, in case the original moves.",
    )
    published_on = models.DateField(
        "publication date", null=True, blank=True, help_text="Blank if the document is undated."
    )
    history = HistoricalRecords()

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title", "pk"]
        constraints = [
            choices_constraint("kind", SourceKind, "source_kind_valid"),
            http_url_constraint("url", "source_url_http"),
            # The URL is the natural key of an online source: one record per document.
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="source_url_unique"),
            http_url_constraint("archive_url", "source_archive_url_http"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("positions:source", args=[self.pk])


class ConditionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"


class ConditionQuerySet(models.QuerySet):
    def public(self):
        """Conditions a public statement names (like sources, unseen while only drafts do)."""
        named = Statement.conditions.through.objects.filter(
            statement__in=Statement.objects.public()
        )
        return self.filter(pk__in=named.values("condition_id"))


class Condition(TimestampedModel):
    """A named demand that conditional stances depend on, shared across statements."""

    text = models.CharField(
        max_length=300,
        help_text="The demand, as a short phrase: 'Human-rights safeguards in place before "
        "ratification'.",
    )
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ConditionStatus.choices, default=ConditionStatus.OPEN
    )
    status_date = models.DateField(null=True, blank=True, help_text="When the status last changed.")
    status_note = models.TextField(
        blank=True, help_text="Why the status is what it is, with a reference."
    )
    # status, status_date and status_note: the latest `ConditionStatusChange`, copied there
    # by the write path when a change is saved (imports may still set them directly).
    history = HistoricalRecords()

    objects = ConditionQuerySet.as_manager()

    class Meta:
        ordering = ["text", "pk"]
        constraints = [choices_constraint("status", ConditionStatus, "condition_status_valid")]

    def __str__(self):
        return self.text

    def get_absolute_url(self):
        return reverse("positions:condition", args=[self.slug])


class ConditionStatusChangeQuerySet(models.QuerySet):
    def as_of(self, date):
        """Changes dated on or before `date`, latest first: the first is the status then."""
        return self.filter(date__lte=date).order_by("-date", "-pk")


class ConditionStatusChange(TimestampedModel):
    """
    One dated change of a condition's status, kept so readers see the status as it stood on
    any day. The condition's own `status`, `status_date` and `status_note` are the latest
    change's, copied by the write path (`writes.condition_status_changed`) when one is saved.
    """

    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=16, choices=ConditionStatus.choices)
    date = models.DateField(help_text="The day the status changed.")
    note = models.TextField(blank=True, help_text="Why the status changed, for readers.")
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="condition_status_changes",
        help_text="The document that shows the change, if any.",
    )
    history = HistoricalRecords()

    objects = ConditionStatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            choices_constraint("status", ConditionStatus, "condition_status_change_valid")
        ]
        indexes = [
            # The status as of a day: a condition's changes by date.
            models.Index(fields=["condition", "date"], name="condition_status_change_idx"),
        ]

    def __str__(self):
        return f"{self.get_status_display()} on {self.date:%Y-%m-%d}"


class Stance(models.TextChoices):
    """What an actor said about a question. "No known position" is the absence of statements."""

    SUPPORTS = "supports", "Supports"
    CONDITIONAL = "conditional", "Supports on conditions"
    OPPOSES = "opposes", "Opposes"
    UNDECIDED = "undecided", "Undecided"

    @property
    def definition(self):
        return STANCE_DEFINITIONS[self]


STANCE_DEFINITIONS = {
    Stance.SUPPORTS: "The actor wants the decision to go ahead as it stands.",
    Stance.CONDITIONAL: "The actor supports the decision only if the conditions it names are met.",
    Stance.OPPOSES: "The actor wants the decision not to go ahead.",
    Stance.UNDECIDED: "The actor has said it has not made up its mind.",
}


class DatePrecision(models.TextChoices):
    """How much of a statement's date the evidence gives; the date stores the first day."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"

    def first_day(self, date):
        if self == DatePrecision.YEAR:
            return date.replace(month=1, day=1)
        if self == DatePrecision.MONTH:
            return date.replace(day=1)
        return date

    def format(self, date):
        if self == DatePrecision.YEAR:
            return f"{date:%Y}"
        if self == DatePrecision.MONTH:
            return f"{date:%B %Y}"
        return f"{date.day} {date:%B %Y}"


class Attribution(models.TextChoices):
    OWN_WORDS = "own_words", "The actor's own words"
    REPORTED = "reported", "Reported by others"


class StatementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETRACTED = "retracted", "Retracted"


PUBLIC_STATUSES = [StatementStatus.PUBLISHED, StatementStatus.RETRACTED]


class StatementQuerySet(models.QuerySet):
    def published(self):
        """Statements that count towards positions."""
        return self.filter(status=StatementStatus.PUBLISHED)

    def public(self):
        """Statements readers may see: published ones, and retracted ones shown as retracted."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def drafts(self):
        return self.filter(status=StatementStatus.DRAFT)

    def on(self, question):
        return self.filter(question=question)

    def as_of(self, date):
        return self.filter(date__lte=date)

    def by(self, actor):
        return self.filter(signatures__actor=actor)


class Statement(TimestampedModel):
    """The unit of evidence: on a date, one or more actors took a stance on a question."""

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="statements")
    actors = models.ManyToManyField(
        Actor, through="Signatory", related_name="statements", verbose_name="signatories"
    )
    date = models.DateField(help_text="The day the actors said it, not the day it was reported.")
    date_precision = models.CharField(
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text="If the evidence gives only the month or the year, enter the first day of it "
        "and say so here; the statement then counts from that first day.",
    )
    stance = models.CharField(max_length=16, choices=Stance.choices)
    summary = models.TextField(
        help_text="What the actors said, in one or two neutral sentences of your own."
    )
    quote = models.TextField(blank=True, help_text="Verbatim words from the source, if any.")
    quote_locator = models.CharField(
        max_length=200, blank=True, help_text="Where the quote is: page, paragraph, timestamp."
    )
    attribution = models.CharField(
        max_length=16,
        choices=Attribution.choices,
        default=Attribution.OWN_WORDS,
        help_text="Whether the source gives the actors' own words, or others report them.",
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        help_text="Required before the statement can be published.",
    )
    conditions = models.ManyToManyField(
        Condition,
        blank=True,
        related_name="statements",
        help_text="For a conditional stance: the demands it depends on (at least one).",
    )
    status = models.CharField(
        max_length=16, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    correction_note = models.TextField(
        blank=True, help_text="Required to retract: what was wrong, shown to readers."
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retracted_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_ref = models.CharField(
        "import reference",
        max_length=100,
        blank=True,
        help_text="Stable key of this statement in imported spreadsheets.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords(m2m_fields=[conditions])

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        permissions = [
            ("publish_statement", "Can publish, unpublish and retract statements"),
        ]
        constraints = [
            choices_constraint("stance", Stance, "statement_stance_valid"),
            choices_constraint("status", StatementStatus, "statement_status_valid"),
            choices_constraint("attribution", Attribution, "statement_attribution_valid"),
            choices_constraint("date_precision", DatePrecision, "statement_date_precision_valid"),
            # These two are `clean()`'s rules, kept by the database too.
            FieldRuleConstraint(
                condition=Q(status=StatementStatus.DRAFT) | Q(source__isnull=False),
                name="statement_public_has_source",
                violation_error_message="A statement needs a source before it is published.",
            ),
            FieldRuleConstraint(
                condition=~Q(status=StatementStatus.RETRACTED) | ~Q(correction_note=""),
                name="statement_retraction_has_note",
                violation_error_message="A retraction needs a correction note for readers.",
            ),
            models.UniqueConstraint(
                fields=["import_ref"],
                condition=~Q(import_ref=""),
                name="statement_import_ref_unique",
            ),
        ]
        indexes = [
            # The board and the statement list: a question's published statements by date.
            # With the id and stance included, the position queries and tallies read them
            # from the index alone.
            models.Index(
                fields=["question", "status", "date"],
                include=["id", "stance"],
                name="statement_board_idx",
            ),
            # The admin statement list: newest first (its default order) without a sort.
            models.Index(fields=["-date", "-id"], name="statement_newest_idx"),
            models.Index(fields=["status", "-date"], name="statement_latest_idx"),
            # The Atom feeds' order has an index on PostgreSQL only (migration 0008).
            # The corrections page: retractions, latest first.
            models.Index(
                fields=["-retracted_at", "-id"],
                condition=Q(status=StatementStatus.RETRACTED),
                name="statement_retracted_idx",
            ),
            # Which sources and conditions are public (cited by a public statement).
            models.Index(
                fields=["source"],
                condition=Q(status__in=PUBLIC_STATUSES),
                name="statement_public_source_idx",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} · {self.get_stance_display()} · " + Truncator(
            self.summary
        ).chars(60)

    def get_absolute_url(self):
        return reverse("positions:statement", args=[self.pk])

    @property
    def date_display(self):
        """The date as precisely as the evidence gives it: '29 October 2024', 'November 2024'."""
        return DatePrecision(self.date_precision).format(self.date)

    @property
    def is_public(self):
        return self.status != StatementStatus.DRAFT

    @property
    def is_draft(self):
        return self.status == StatementStatus.DRAFT

    @property
    def is_retracted(self):
        return self.status == StatementStatus.RETRACTED

    @staticmethod
    def conditions_error(stance, conditions):
        """The rule the database cannot check: a conditional stance names its conditions."""
        if stance == Stance.CONDITIONAL and not conditions:
            return "A conditional stance must name at least one condition it depends on."
        return None

    def clean(self):
        errors = {}
        if self.status != StatementStatus.DRAFT and self.source_id is None:
            errors["source"] = "A statement needs a source before it is published."
        if self.status == StatementStatus.RETRACTED and not self.correction_note.strip():
            errors["correction_note"] = "A retraction needs a correction note for readers."
        if self.date and self.date > timezone.localdate() + datetime.timedelta(days=1):
            errors["date"] = "The date of a statement cannot be in the future."
        elif self.date and self.date != DatePrecision(self.date_precision).first_day(self.date):
            errors["date"] = "A date known only to the month or year must be the first day of it."
        if errors:
            raise ValidationError(errors)

    def mark_status(self, status, user=None, note=""):
        """Move the statement to `status`, stamping the dates readers see."""
        now = timezone.now()
        self.status = status
        if status == StatementStatus.PUBLISHED and self.first_published_at is None:
            self.first_published_at = now
        if status == StatementStatus.RETRACTED:
            self.retracted_at = now
            if note:
                self.correction_note = note
        if user is not None:
            self.updated_by = user


class Signatory(models.Model):
    """One actor behind a statement; a joint letter has several, one of them the lead."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="signatures")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="signatures")
    order = models.PositiveSmallIntegerField(default=0)
    is_lead = models.BooleanField(
        "lead", default=False, help_text="The actor who led a joint statement (at most one)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name_plural = "signatories"
        constraints = [
            models.UniqueConstraint(fields=["statement", "actor"], name="signatory_once"),
            models.UniqueConstraint(
                fields=["statement"], condition=Q(is_lead=True), name="signatory_one_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["actor", "statement"], name="signatory_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor} ({'lead' if self.is_lead else 'signatory'})"


class Position(models.Model):
    """
    An actor's current position on a question: the deciding statement under the rules in
    `positions/stances.py`, kept as a row so that boards, tallies and filters read a few
    thousand rows by index instead of ranking a question's whole record on every request.

    Derived data: `stances.refresh_positions` rewrites it on every write to statements and
    signatories (signals, the import, the data commands); nobody edits it, backups leave it
    out and a restore rebuilds it. `stances.current_positions(q, as_of=day)` still computes
    from the record, and the tests hold the two equal after every kind of write.
    """

    # Looked up through the indexes below, which begin with them.
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        Actor, on_delete=models.CASCADE, related_name="positions", db_index=False
    )
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="+")
    # Copies of the deciding statement's, so that counting needs no join.
    stance = models.CharField(max_length=16, choices=Stance.choices)
    date = models.DateField()
    # A copy of the actor's name, so that a board is read in its order from an index instead
    # of joining and sorting ten thousand actors (kept in step by `stances.py`).
    actor_name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "actor"], name="position_once"),
        ]
        indexes = [
            models.Index(fields=["question", "actor_name", "actor"], name="position_board_idx"),
            models.Index(
                fields=["question", "stance", "actor_name", "actor"], name="position_stance_idx"
            ),
            models.Index(fields=["actor", "question"], name="position_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor_id} on {self.question_id}: {self.stance}"


# --- Formal acts --------------------------------------------------------------------------


class ActKind(models.TextChoices):
    """A formal step of a party on a treaty, in the words of the depositaries' status tables."""

    SIGNATURE = "signature", "Signature"
    RATIFICATION = "ratification", "Ratification"
    ACCEPTANCE = "acceptance", "Acceptance"
    APPROVAL = "approval", "Approval"
    ACCESSION = "accession", "Accession"
    SUCCESSION = "succession", "Succession"
    ENTRY_INTO_FORCE = "entry_into_force", "Entry into force for the party"
    DECLARATION = "declaration", "Declaration"
    RESERVATION = "reservation", "Reservation"
    OBJECTION = "objection", "Objection to a reservation"
    RESERVATION_WITHDRAWAL = "reservation_withdrawal", "Withdrawal of a reservation"
    DENUNCIATION = "denunciation", "Denunciation or withdrawal"

    @property
    def is_consent(self):
        """Consent to be bound: what makes a signatory a party, and counts for entry into force."""
        return self in CONSENT_KINDS

    @property
    def needs_text(self):
        return self in TEXT_KINDS


CONSENT_KINDS = frozenset(
    {
        ActKind.RATIFICATION,
        ActKind.ACCEPTANCE,
        ActKind.APPROVAL,
        ActKind.ACCESSION,
        ActKind.SUCCESSION,
    }
)
# The acts whose words are the act: a reservation, a declaration, an objection.
TEXT_KINDS = frozenset({ActKind.RESERVATION, ActKind.DECLARATION, ActKind.OBJECTION})


class FormalActQuerySet(models.QuerySet):
    def published(self):
        """Acts that count in status tables, boards and maps."""
        return self.filter(status=StatementStatus.PUBLISHED)

    def public(self):
        """Acts readers may see: published ones, and retracted ones shown as retracted."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def on(self, topic):
        return self.filter(topic=topic)

    def as_of(self, date):
        return self.filter(date__lte=date)


class FormalAct(TimestampedModel):
    """
    A dated, sourced formal step of an actor on a topic: what a state does, beside what it
    says. The editorial workflow is the statements' (`editorial.py`): drafts, Publishers
    publish, a retraction is final and keeps a correction note.
    """

    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="formal_acts")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="formal_acts")
    kind = models.CharField(max_length=32, choices=ActKind.choices)
    date = models.DateField(help_text="The day of the act (of deposit, for an instrument).")
    place = models.CharField(max_length=200, blank=True, help_text="Where it was signed, if known.")
    depositary_reference = models.CharField(
        max_length=200,
        blank=True,
        help_text="The depositary's reference, e.g. a depositary notification number.",
    )
    text = models.TextField(
        blank=True,
        help_text="The words of a reservation, declaration or objection (required for them).",
    )
    regarding = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        help_text="For an objection, the reservation objected to; for a withdrawal of a "
        "reservation, the one withdrawn (blank: every reservation of the party until then).",
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="formal_acts",
        help_text="Required before the act can be published.",
    )
    status = models.CharField(
        max_length=16, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    correction_note = models.TextField(
        blank=True, help_text="Required to retract: what was wrong, shown to readers."
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retracted_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = FormalActQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "formal act"
        constraints = [
            choices_constraint("kind", ActKind, "formal_act_kind_valid"),
            choices_constraint("status", StatementStatus, "formal_act_status_valid"),
            # `clean()`'s rules, kept by the database too.
            FieldRuleConstraint(
                condition=Q(status=StatementStatus.DRAFT) | Q(source__isnull=False),
                name="formal_act_public_has_source",
                violation_error_message="An act needs a source before it is published.",
            ),
            FieldRuleConstraint(
                condition=~Q(status=StatementStatus.RETRACTED) | ~Q(correction_note=""),
                name="formal_act_retraction_has_note",
                violation_error_message="A retraction needs a correction note for readers.",
            ),
            FieldRuleConstraint(
                condition=~Q(kind__in=sorted(TEXT_KINDS)) | ~Q(text=""),
                name="formal_act_text_where_needed",
                violation_error_message="A reservation, declaration or objection needs its text.",
            ),
        ]
        indexes = [
            # The status table, the board's marks and the map: a topic's published acts.
            models.Index(fields=["topic", "status", "date"], name="formal_act_topic_idx"),
            # An actor's timeline.
            models.Index(fields=["actor", "date"], name="formal_act_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor} · {self.get_kind_display()} · {self.date:%Y-%m-%d}"

    def get_absolute_url(self):
        # The status table of its topic (its row carries `id="act-<pk>"` for a fragment link).
        return reverse("positions:topic_status", args=[self.topic.slug])

    @property
    def is_public(self):
        return self.status != StatementStatus.DRAFT

    @property
    def is_draft(self):
        return self.status == StatementStatus.DRAFT

    @property
    def is_retracted(self):
        return self.status == StatementStatus.RETRACTED

    @property
    def date_display(self):
        return DatePrecision.DAY.format(self.date)

    def clean(self):
        errors = {}
        if self.status != StatementStatus.DRAFT and self.source_id is None:
            errors["source"] = "An act needs a source before it is published."
        if self.status == StatementStatus.RETRACTED and not self.correction_note.strip():
            errors["correction_note"] = "A retraction needs a correction note for readers."
        if self.kind in TEXT_KINDS and not self.text.strip():
            errors["text"] = "A reservation, declaration or objection needs its text."
        if self.date and self.date > timezone.localdate() + datetime.timedelta(days=1):
            errors["date"] = "The date of an act cannot be in the future."
        if self.regarding_id is not None:
            if self.kind not in (ActKind.OBJECTION, ActKind.RESERVATION_WITHDRAWAL):
                errors["regarding"] = "Only an objection or a withdrawal refers to another act."
            elif self.regarding_id == self.pk:
                errors["regarding"] = "An act cannot refer to itself."
            elif self.regarding.kind != ActKind.RESERVATION or (
                self.regarding.topic_id != self.topic_id
            ):
                errors["regarding"] = "Choose a reservation made on the same topic."
        if errors:
            raise ValidationError(errors)

    # The statements' own stamping of a status change (the same fields, the same rule).
    mark_status = Statement.mark_status


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    CHECKING = "checking", "Checking"
    CHECKED = "checked", "Checked: waiting for confirmation"
    WRITING = "writing", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """
    An admin import run by the background worker (`positions.exchange.jobs`): the uploaded
    file, kept in the database so that any process (and a restarted worker) can read it,
    and where the job stands. Not part of the record: the write path does not watch it.
    """

    RUNNING_STATES = (ImportJobState.QUEUED, ImportJobState.CHECKING, ImportJobState.WRITING)

    kind = models.CharField(max_length=20)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    data = models.BinaryField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    state = models.CharField(
        max_length=10, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    step = models.CharField(max_length=100, blank=True, help_text="What the worker is doing.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # What checking found: totals, the first rows and errors (`jobs.preview`).
    preview = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    # The run that owns the job; a resumed run takes it over, and the old one stops.
    runner = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A run that has not reported by then is presumed dead, and the job is run again.
    stalled_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_constraint("state", ImportJobState, "importjob_state_valid"),
        ]

    def __str__(self):
        return f"{self.kind} import of {self.file_name} ({self.get_state_display()})"
