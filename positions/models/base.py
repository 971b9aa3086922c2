"""
What every model of the record shares: constraints that repeat a field's rule in the
database, http(s) addresses, and the created/updated stamps.
"""

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

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
