"""Create the first admin account with a generated password, printed once."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a superuser with a freshly generated password and print it once. If the "
        "account exists already, leave it alone (use `manage.py changepassword` to reset it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"The account '{username}' exists already; its password is unchanged. "
                f"To set a new one: python manage.py changepassword {username}"
            )
            return
        password = secrets.token_urlsafe(16)
        User.objects.create_superuser(username=username, email=email, password=password)
        lines = [
            f"Admin account: {username}",
            f"Password:      {password}",
            "Shown only this once: keep it somewhere safe.",
        ]
        self.stdout.write(self.style.SUCCESS(framed(lines)))


def framed(lines):
    """Lines in a box, so that a password stands out of the output around it."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    return "\n".join([rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule])
