"""
The filters' FastSelect and fast inputs write the same elements as Django's widgets,
escaped the same.
"""

import datetime
import re

import pytest
from django import forms
from django.utils.safestring import mark_safe

from positions.filters import FastDateInput, FastHiddenInput, FastSelect, FastTextInput

CHOICES = [
    ("", "Any"),
    ("a<b", 'A & "B"'),
    ("c", "<script>C</script>"),
    (3, "Three"),
    ("quote", "Rock 'n' roll"),
    ("safe", mark_safe("<b>Already safe</b>")),
]


def rendered(widget_class, value):
    class Form(forms.Form):
        kind = forms.ChoiceField(choices=CHOICES, required=False, widget=widget_class)

    html = str(Form({"kind": value})["kind"])
    return re.sub(r">\s+<", "><", html.replace("\n", "")).strip()


def attributes(html):
    """The tags with their attributes sorted: Django and FastSelect order them differently."""
    return [
        (name, sorted(re.findall(r'(\w[\w-]*)(?:="([^"]*)")?', attrs)))
        for name, attrs in re.findall(r"<(\w+)([^>]*)>", html)
    ]


@pytest.mark.parametrize("value", ["", "a<b", "3", "junk"])
def test_it_writes_what_djangos_select_writes(value):
    fast, django = rendered(FastSelect, value), rendered(forms.Select, value)
    assert attributes(fast) == attributes(django)
    assert re.sub(r"<[^>]*>", "|", fast) == re.sub(r"<[^>]*>", "|", django)
    assert "<script>" not in fast


def rendered_input(widget, field, value):
    class Form(forms.Form):
        given = field(required=False, widget=widget)

    return str(Form({"given": value} if value is not None else {})["given"])


@pytest.mark.parametrize(
    ("fast", "django", "field"),
    [
        (FastTextInput, forms.TextInput, lambda **kw: forms.CharField(max_length=20, **kw)),
        (FastDateInput, forms.DateInput(attrs={"type": "date"}), forms.DateField),
        (FastHiddenInput, forms.HiddenInput, forms.CharField),
    ],
)
@pytest.mark.parametrize("value", [None, "", "2024-05-01", "a\"<b>&'c", "<script>x</script>"])
def test_its_inputs_write_what_djangos_inputs_write(fast, django, field, value):
    fast_html, django_html = (rendered_input(w, field, value) for w in (fast, django))
    assert attributes(fast_html) == attributes(django_html)
    assert "<script>" not in fast_html


def test_a_date_input_shows_a_date_as_the_browser_expects():
    class Form(forms.Form):
        day = forms.DateField(widget=FastDateInput, initial=datetime.date(2024, 5, 1))

    assert (
        str(Form()["day"])
        == '<input type="date" name="day" value="2024-05-01" id="id_day" required>'
    )
