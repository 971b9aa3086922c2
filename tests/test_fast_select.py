"""The filters' FastSelect writes the same <select> as Django's Select, escaped the same."""

import re

import pytest
from django import forms
from django.utils.safestring import mark_safe

from positions.filters import FastSelect

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
