"""
The domain of Position Tracker: actors take dated, sourced stances on the questions of a topic.

Positions are derived from published statements by the rules in `positions/stances.py`; the
`Position` table keeps the current one of each actor, rewritten from the record on every
write. The vocabularies are `TextChoices` enforced by database constraints.
"""

# The record in modules by subject; everything is importable from `positions.models`, as
# Django, the migrations and the rest of the app expect.
from .actors import (  # noqa: F401
    Actor,
    ActorIdentifier,
    ActorKind,
    ActorQuerySet,
    ActorRedirect,
    Membership,
    MembershipQuerySet,
    country_name,
    validate_subdivision,
)
from .acts import (  # noqa: F401
    CONSENT_KINDS,
    TEXT_KINDS,
    ActKind,
    FormalAct,
    FormalActQuerySet,
)
from .base import (  # noqa: F401
    FieldRuleConstraint,
    TimestampedModel,
    choices_constraint,
    http_url_constraint,
    http_url_validator,
)
from .derived import (  # noqa: F401
    MAX_SCOPED_QUESTIONS,
    HiddenActor,
    HiddenSource,
    Position,
    StanceCountDay,
    StatementCount,
)
from .evidence import (  # noqa: F401
    PUBLIC_STATUSES,
    STANCE_DEFINITIONS,
    Attribution,
    Condition,
    ConditionQuerySet,
    ConditionStatus,
    ConditionStatusChange,
    ConditionStatusChangeQuerySet,
    DatePrecision,
    EditorialRecord,
    Signatory,
    Source,
    SourceKind,
    SourceQuerySet,
    Stance,
    Statement,
    StatementQuerySet,
    StatementStatus,
)
from .jobs import (  # noqa: F401
    BatchAction,
    ImportBatch,
    ImportBatchChange,
    ImportJob,
    ImportJobState,
)
from .topics import (  # noqa: F401
    Question,
    ThresholdKind,
    Topic,
)
