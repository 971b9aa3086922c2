from django import forms

from positions.models import Actor, Condition, Question

from .models import Frequency

# What readers may follow, and where the record says they may see it.
TARGETS = {
    "question": ("question", lambda: Question.objects.select_related("topic")),
    "actor": ("actor", lambda: Actor.objects.public()),
    "condition": ("condition", lambda: Condition.objects.public()),
}
BIGINT_MAX = 2**63 - 1


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="Used only to send these alerts; never shown or shared.",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter a valid email address, such as name@example.org.",
        },
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Frequency.choices,
        initial=Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose “as it happens” or “a daily digest”."},
    )
    follow = forms.ChoiceField(choices=[(name, name) for name in TARGETS], widget=forms.HiddenInput)
    target = forms.IntegerField(min_value=1, max_value=BIGINT_MAX, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if "follow" not in data or "target" not in data:
            raise forms.ValidationError(
                "This form does not say what to follow: open it from a question, an actor or "
                "a condition page."
            )
        data["record"] = find_target(data["follow"], data["target"])
        if data["record"] is None:
            raise forms.ValidationError(f"There is no such {data['follow']} to follow.")
        return data


def find_target(kind, pk):
    """The public question, actor or condition `pk` (an int), or None."""
    if kind not in TARGETS or not isinstance(pk, int) or not 0 < pk <= BIGINT_MAX:
        return None
    return TARGETS[kind][1]().filter(pk=pk).first()


def target_from_query(params):
    """`(kind, record)` named by a query such as `?question=5`; (None, None) if none is."""
    for kind in TARGETS:
        raw = params.get(kind)
        if raw is not None:
            raw = raw.strip()
            ok = raw.isascii() and raw.isdigit() and len(raw) < 20
            record = find_target(kind, int(raw)) if ok else None
            return kind, record
    return None, None


def target_label(record):
    return getattr(record, "title", None) or getattr(record, "name", None) or record.text
