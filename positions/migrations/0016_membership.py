"""
Memberships (Popolo `membership`): an actor's dated membership of an organisation-actor.
Editors and Publishers edit them as they edit identifiers, inside the actor's page.
"""

import django.db.models.deletion
import positions.models
import simple_history.models
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

MEMBERSHIP_PERMISSIONS = [f"{action}_membership" for action in ("view", "add", "change", "delete")]


def grant_editors(apps, schema_editor):
    app_config = apps.get_app_config("positions")
    app_config.models_module = True  # As in 0003: the permissions do not exist yet.
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = list(
        Permission.objects.using(db).filter(
            content_type__app_label="positions", codename__in=MEMBERSHIP_PERMISSIONS
        )
    )
    for group in Group.objects.using(db).filter(name__in=["Editors", "Publishers"]):
        group.permissions.add(*permissions)


def revoke_editors(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="positions", codename__in=MEMBERSHIP_PERMISSIONS
    )
    for group in Group.objects.using(db).filter(name__in=["Editors", "Publishers"]):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ('positions', '0015_condition_status_changes_from_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalMembership',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('role', models.CharField(default='member', help_text='In lower case, as the organisation says it: member, chair, vice-chair, ranking member, president, observer.', max_length=100)),
                ('area', models.CharField(blank=True, help_text='The state, region or district the membership is for, as an ISO 3166-2 code: US-OR for Oregon.', max_length=6, validators=[positions.models.validate_subdivision])),
                ('start_date', models.DateField(blank=True, help_text='The first day. Leave blank if no source gives it.', null=True)),
                ('end_date', models.DateField(blank=True, help_text='The last day it was held. Blank while it lasts.', null=True)),
                ('note', models.TextField(blank=True)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('member', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='positions.actor')),
                ('on_behalf_of', models.ForeignKey(blank=True, db_constraint=False, help_text='For a legislator: the party it sits for in this chamber. A change of party is a new membership, with the old one ended the day before.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='positions.actor', verbose_name='on behalf of')),
                ('organization', models.ForeignKey(blank=True, db_constraint=False, help_text='The chamber, party, bloc, coalition or committee the actor belongs to.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='positions.actor')),
                ('source', models.ForeignKey(blank=True, db_constraint=False, help_text='The document that states the membership.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='positions.source')),
            ],
            options={
                'verbose_name': 'historical membership',
                'verbose_name_plural': 'historical memberships',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Membership',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('role', models.CharField(default='member', help_text='In lower case, as the organisation says it: member, chair, vice-chair, ranking member, president, observer.', max_length=100)),
                ('area', models.CharField(blank=True, help_text='The state, region or district the membership is for, as an ISO 3166-2 code: US-OR for Oregon.', max_length=6, validators=[positions.models.validate_subdivision])),
                ('start_date', models.DateField(blank=True, help_text='The first day. Leave blank if no source gives it.', null=True)),
                ('end_date', models.DateField(blank=True, help_text='The last day it was held. Blank while it lasts.', null=True)),
                ('note', models.TextField(blank=True)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='positions.actor')),
                ('on_behalf_of', models.ForeignKey(blank=True, help_text='For a legislator: the party it sits for in this chamber. A change of party is a new membership, with the old one ended the day before.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='positions.actor', verbose_name='on behalf of')),
                ('organization', models.ForeignKey(help_text='The chamber, party, bloc, coalition or committee the actor belongs to.', on_delete=django.db.models.deletion.PROTECT, related_name='memberships_in', to='positions.actor')),
                ('source', models.ForeignKey(blank=True, help_text='The document that states the membership.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='memberships', to='positions.source')),
            ],
            options={
                'ordering': ['organization_id', 'start_date', 'pk'],
                'indexes': [models.Index(fields=['organization', 'start_date'], name='membership_org_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('end_date__isnull', True), ('start_date__isnull', True), ('end_date__gte', models.F('start_date')), _connector='OR'), name='membership_ends_after_start', violation_error_message='A membership cannot end before it starts.'), models.CheckConstraint(condition=models.Q(('member', models.F('organization')), _negated=True), name='membership_not_of_itself', violation_error_message='An actor cannot be a member of itself.'), models.CheckConstraint(condition=models.Q(('role', ''), _negated=True), name='membership_has_role'), models.UniqueConstraint(fields=('member', 'organization', 'role', 'start_date'), name='membership_once', violation_error_message='This actor already has this role there from that day.'), models.UniqueConstraint(condition=models.Q(('start_date__isnull', True)), fields=('member', 'organization', 'role'), name='membership_undated_once', violation_error_message='This actor already has this role there, undated.')],
            },
        ),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
