"""
Send the daily digests: `manage.py send_digests`, once a day (cron, docs/alerts.md).

Each reader who chose a daily digest gets one message per subscription with every change
owed since the last one. The same run catches up what the worker may have missed (lost
dispatches, failed immediate emails, overdue webhook attempts) and forgets unconfirmed
subscriptions that expired.
"""

from django.core.management.base import BaseCommand

from alerts import delivery, mailing


class Command(BaseCommand):
    help = "Mail the daily digests of alerts, and catch up undelivered alerts."

    def handle(self, *args, verbosity, **options):
        delivery.catch_up()
        sent = mailing.send_digests()
        if verbosity:
            self.stdout.write(f"{sent} digest{'s' if sent != 1 else ''} sent.")
