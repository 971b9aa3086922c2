"""
The shape of the synthetic data set (`generate_data`): presets, the vocabulary records are
named from, the shares of drafts, retractions, joint statements and stance changes, and the
plan of the statements, drawn from one seeded random generator (the same seed gives the
same records).
"""

import datetime

from positions.models import ActorKind, Attribution, Stance, StatementStatus

PRESETS = {
    # The scale, for PostgreSQL.
    "full": {
        "actors": 20_000,
        "topics": 200,
        "questions_per_topic": 3,
        "statements": 1_000_000,
        "largest_question": 10_000,
    },
    # Seconds on SQLite; enough for every page and query shape to show.
    "small": {
        "actors": 2_000,
        "topics": 20,
        "questions_per_topic": 3,
        "statements": 20_000,
        "largest_question": 1_000,
    },
    # For tests.
    "tiny": {
        "actors": 60,
        "topics": 3,
        "questions_per_topic": 2,
        "statements": 300,
        "largest_question": 40,
    },
}

FIRST_DAY = datetime.date(2018, 1, 1)
LAST_DAY = datetime.date(2025, 12, 31)
STATEMENTS_PER_PAIR = 2.5  # Average statements by one actor on one question.
SHARE_JOINT = 0.03
SHARE_DRAFT = 0.06
SHARE_RETRACTED = 0.04
SHARE_DRAFT_WITHOUT_SOURCE = 0.5
SHARE_STANCE_CHANGE = 0.3
SHARE_QUOTED = 0.3
# The last fifth of the questions are small boards (10 to 300 actors), as most real ones are.
TAIL_SHARE = 0.2
TAIL_SIZES = (10, 300)

KIND_WEIGHTS = {
    ActorKind.STATE: 4,
    ActorKind.GOVERNMENT: 8,
    ActorKind.LEGISLATOR: 35,
    ActorKind.LEGISLATIVE_GROUP: 3,
    ActorKind.COMPANY: 20,
    ActorKind.NGO: 18,
    ActorKind.INTERGOVERNMENTAL: 2,
    ActorKind.EXPERT: 8,
    ActorKind.MEDIA: 2,
}
COUNTRIES = [
    "US",
    "GB",
    "FR",
    "DE",
    "IT",
    "ES",
    "NL",
    "BE",
    "SE",
    "NO",
    "DK",
    "FI",
    "PL",
    "CZ",
    "AT",
    "CH",
    "IE",
    "PT",
    "GR",
    "RO",
    "HU",
    "BG",
    "HR",
    "SI",
    "SK",
    "EE",
    "LV",
    "LT",
    "CA",
    "MX",
    "BR",
    "AR",
    "CL",
    "CO",
    "PE",
    "ZA",
    "NG",
    "KE",
    "EG",
    "MA",
    "IN",
    "PK",
    "BD",
    "CN",
    "JP",
    "KR",
    "ID",
    "PH",
    "VN",
    "TH",
    "MY",
    "SG",
    "AU",
    "NZ",
    "RU",
    "UA",
    "TR",
    "IL",
    "SA",
    "AE",
    "IR",
]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Maria",
    "Chen",
    "Amina",
    "Lars",
    "Ingrid",
    "Priya",
    "Kofi",
    "Yuki",
    "Elena",
    "Omar",
]
LAST_NAMES = [
    "Morgan",
    "Novak",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Haddad",
    "Silva",
    "Kowalski",
    "Dubois",
    "Mensah",
]
ORG_WORDS = [
    "Digital",
    "Rights",
    "Open",
    "Network",
    "Privacy",
    "Alliance",
    "Civil",
    "Liberties",
    "Trust",
    "Tech",
]
SUBJECTS = [
    "Cybercrime",
    "Data",
    "Protection",
    "AI",
    "Safety",
    "Climate",
    "Finance",
    "Trade",
    "Digital",
    "Services",
    "Encryption",
    "Content",
    "Moderation",
    "Critical",
    "Infrastructure",
    "Cross-Border",
    "Evidence",
]
QUESTION_TITLES = (
    ("Adoption", "Adoption by the assembly"),
    ("Signature", "Signature by the government"),
    ("Ratification", "Consent to ratification"),
    ("Implementation", "Implementation in national law"),
)
SUMMARIES = {
    Stance.SUPPORTS: "Says the instrument should go ahead as drafted and urges others to back it.",
    Stance.CONDITIONAL: "Backs the instrument only if the safeguards it names are written in.",
    Stance.OPPOSES: "Warns the instrument would legitimise surveillance and asks for a no vote.",
    Stance.UNDECIDED: "Says it is still studying the text and has not made up its mind.",
}
STANCE_WEIGHTS = (
    (Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED),
    (40, 20, 30, 10),
)


def question_sizes(rng, questions, actors, largest, pairs_wanted):
    """
    How many actors take a position on each question: a power law from `largest` down, its
    exponent fitted so the sizes add up to `pairs_wanted`, and a tail of small boards.
    """
    largest = min(largest, actors)
    tail = [
        rng.randint(min(TAIL_SIZES[0], largest), min(TAIL_SIZES[1], largest))
        for _ in range(int(questions * TAIL_SHARE))
    ]
    head_count = questions - len(tail)
    wanted = max(pairs_wanted - sum(tail), largest + head_count - 1)

    def head(exponent):
        return [largest] + [
            max(1, min(largest, round(largest * (i + 1) ** -exponent)))
            for i in range(1, head_count)
        ]

    low, high = 0.0, 8.0
    for _ in range(50):  # Bisection: the sum falls as the exponent grows.
        middle = (low + high) / 2
        if sum(head(middle)) > wanted:
            low = middle
        else:
            high = middle
    return head(high) + tail


def statement_dates(rng, count):
    span = (LAST_DAY - FIRST_DAY).days
    return sorted(FIRST_DAY + datetime.timedelta(days=rng.randrange(span)) for _ in range(count))


def settle_config(scale, options):
    """The preset `scale` with the options given on the command line, checked."""
    config = dict(PRESETS[scale])
    for name in config:
        if options.get(name) is not None:
            config[name] = options[name]
    for name, value in config.items():
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1.")
    questions = config["topics"] * config["questions_per_topic"]
    if config["statements"] < questions:
        raise ValueError(f"--statements must be at least the number of questions ({questions}).")
    return config


def plan_boards(rng, config, actor_ids, question_count):
    """
    Who speaks on which question, and how often: the actors of each question's board, the
    (question index, actor) pairs, and the number of statements of each pair.
    """
    total = config["statements"]
    pairs_wanted = min(int(total / STATEMENTS_PER_PAIR), total)
    sizes = question_sizes(
        rng, question_count, len(actor_ids), config["largest_question"], pairs_wanted
    )
    # Actors with a position on each question; extra statements go to random pairs so
    # some actors speak often, most once or twice.
    boards = [rng.sample(actor_ids, size) for size in sizes]
    pairs = [(q, actor) for q, board in enumerate(boards) for actor in board]
    if len(pairs) > total:
        pairs = pairs[:total]
    per_pair = [1] * len(pairs)
    for index in rng.choices(range(len(pairs)), k=total - len(pairs)):
        per_pair[index] += 1
    return boards, pairs, per_pair


def plan_statements(rng, boards, pairs, per_pair, source_ids, condition_ids):
    """
    Every statement as a row (date, tiebreak, question index, lead actor, stance, status,
    source id, cosigners, condition ids, quoted), in the order editors would enter them.
    """
    # Each question has a few conditions that its conditional stances name.
    question_conditions = [rng.sample(condition_ids, min(5, len(condition_ids))) for _ in boards]
    stances, weights = STANCE_WEIGHTS
    rows = []
    for (q, actor), count in zip(pairs, per_pair, strict=True):
        stance = rng.choices(stances, weights)[0]
        for date in statement_dates(rng, count):
            if rng.random() < SHARE_STANCE_CHANGE:
                stance = rng.choices(stances, weights)[0]
            rows.append(
                draw_statement(
                    rng, date, q, actor, stance, boards[q], source_ids, question_conditions[q]
                )
            )
    # Editors enter statements roughly in date order, across all questions: so do we.
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def draw_statement(rng, date, q, actor, stance, board, source_ids, condition_ids):
    """One statement's row (see `plan_statements`): its status, source, cosigners, ..."""
    draw = rng.random()
    if draw < SHARE_DRAFT:
        status = StatementStatus.DRAFT
    elif draw < SHARE_DRAFT + SHARE_RETRACTED:
        status = StatementStatus.RETRACTED
    else:
        status = StatementStatus.PUBLISHED
    source = rng.choice(source_ids)
    if status == StatementStatus.DRAFT and rng.random() < SHARE_DRAFT_WITHOUT_SOURCE:
        source = None
    cosigners = ()
    if rng.random() < SHARE_JOINT and len(board) > 1:
        others = rng.sample(board, min(len(board), rng.randint(2, 7)))
        cosigners = tuple(other for other in others if other != actor)[:6]
    conditions = ()
    if stance == Stance.CONDITIONAL:
        conditions = tuple(rng.sample(condition_ids, rng.randint(1, 3)))
    quoted = rng.random() < SHARE_QUOTED
    return (date, rng.random(), q, actor, stance, status, source, cosigners, conditions, quoted)


def statement_record(row, statement_id, question_id, now):
    """The statement of a planned row, as `{attname: value}` for the bulk writer."""
    date, _, _, _, stance, status, source, _, _, quoted = row
    published = datetime.datetime.combine(date, datetime.time(12), tzinfo=datetime.UTC)
    retracted = status == StatementStatus.RETRACTED
    return {
        "id": statement_id,
        "created_at": now,
        "updated_at": now,
        "question_id": question_id,
        "date": date,
        "stance": stance,
        "summary": f"{SUMMARIES[stance]} (Synthetic statement {statement_id}.)",
        "quote": "We will not accept this text as it stands." if quoted else "",
        "quote_locator": "p. 2" if quoted else "",
        "attribution": Attribution.OWN_WORDS if quoted else Attribution.REPORTED,
        "source_id": source,
        "status": status,
        "correction_note": "The source was misread: this was not the actor's position."
        if retracted
        else "",
        "first_published_at": None if status == StatementStatus.DRAFT else published,
        "retracted_at": published if retracted else None,
        "import_ref": "",
    }
