"""
Actors, their identifiers in other registers, and their dated memberships of
organisation-actors (chambers, parties, blocs).
"""

import functools
import re
from urllib.parse import quote

import pycountry
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django_countries import countries
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from ..urlprefix import page_url
from .base import (
    FieldRuleConstraint,
    TimestampedModel,
    choices_constraint,
    http_url_constraint,
    http_url_validator,
)

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

        The hidden ones are kept in `HiddenActor` by the write path (`named_only_in_drafts`
        is the rule): asking the record on every page meant an anti-join over every
        signature, seconds on a million statements.
        """
        from .derived import HiddenActor

        return self.exclude(pk__in=HiddenActor.objects.values("actor_id"))

    def named_only_in_drafts(self):
        """These actors that drafts name and no public statement does: the rule `public()`
        reads from `HiddenActor`. Each actor is looked up by its signatures (an index)."""
        # Statements come after actors in the record (they name them).
        from .evidence import PUBLIC_STATUSES, Signatory, StatementStatus

        signatures = Signatory.objects.filter(actor=OuterRef("pk"))
        return self.filter(
            Exists(signatures.filter(statement__status=StatementStatus.DRAFT))
        ).exclude(Exists(signatures.filter(statement__status__in=PUBLIC_STATUSES)))

    def with_public_parent(self):
        """`has_public_parent` on each actor: whether it has a parent and readers may see it
        (a page or download leaves out a "part of" that `public()` hides)."""
        parent = Actor.objects.public().filter(pk=OuterRef("parent_id"))
        return self.annotate(has_public_parent=Exists(parent))

    def with_page_sections(self):
        """
        On each actor, whether its page may list anything beside its positions and
        statements: `has_relations` (memberships it holds, its parts, its members, hidden
        ones included), `has_identifiers` and `has_acts` (formal acts, drafts included). Most
        actors have none of them: their page skips those queries, for three index probes in
        its own.
        """
        from .acts import FormalAct

        actor = OuterRef("pk")
        return self.annotate(
            has_relations=Exists(Membership.objects.filter(member=actor))
            | Exists(Membership.objects.filter(organization=actor))
            | Exists(Actor.objects.filter(parent=actor)),
            has_identifiers=Exists(ActorIdentifier.objects.filter(actor=actor)),
            has_acts=Exists(FormalAct.objects.filter(actor=actor)),
        )


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
        return page_url("positions:actor", self.slug)

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


class ActorRedirect(models.Model):
    """
    The slug of an actor merged into another (`positions.merging`): its old addresses (the
    page, the feed, the share card) answer with a permanent redirect to the kept actor's, so
    links readers and other sites made keep working.
    """

    old_slug = models.SlugField(max_length=200, unique=True)
    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_slug"]

    def __str__(self):
        return f"{self.old_slug} → {self.actor_id}"


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
    # Registers that give one identifier to each person, organisation or state: two actors
    # holding different ones are two entries of the register, so merging them is refused.
    ONE_PER_ACTOR = frozenset({"wikidata", "bioguide", "iso3166"})

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

    @classmethod
    def format_error(cls, scheme, identifier):
        """What is wrong with the identifier's form in its scheme ("" if nothing)."""
        pattern, message = cls.FORMATS.get(scheme, (None, ""))
        if pattern and not pattern.match(identifier or ""):
            return message
        return ""

    def clean(self):
        message = self.format_error(self.scheme, self.identifier)
        if message:
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
