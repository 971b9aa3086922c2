"""
Folded names: a name as search and matching compare it, without case or accents, so that
"Velazquez" finds "Velázquez" and "CISCO" finds "Cisco" on SQLite and PostgreSQL alike.

The folded copies are stored on the actor (`Actor.folded_name`, `Actor.folded_aliases`)
by the write path (`positions.writes.save`, the import writer): compare them with
`fold(what the reader typed)`.
"""

import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i", "æ": "ae", "Æ": "ae"}
    | {"œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ß": "ss"}
)


def fold(text):
    """`text` without accents, in lower case, with single spaces: "  José  Núñez" ->
    "jose nunez"."""
    text = text or ""
    if text.isascii():  # most names: nothing to translate, decompose or drop
        return " ".join(text.casefold().split())
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def fold_lines(text):
    """Each line (an actor's aliases) folded, one per line."""
    return "\n".join(filter(None, (fold(line) for line in (text or "").splitlines())))


def fold_actor(actor):
    """Set the actor's folded copies from its name and aliases; return the fields that
    changed."""
    changed = []
    for name, value in (
        ("folded_name", fold(actor.name)),
        ("folded_aliases", fold_lines(actor.aliases)),
    ):
        if getattr(actor, name) != value:
            setattr(actor, name, value)
            changed.append(name)
    return changed
