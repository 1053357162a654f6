"""History rows lose the index of their content type alone: audit_object_idx (content type, object, -id)
starts with the same column and serves every query that one did, so writing a history row maintained two
indexes for one. The index is dropped in place (Django's own AlterField rebuilt the whole table on SQLite
and re-checked the foreign key on PostgreSQL: long on a big history)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "core_auditentry_content_type_id_797ef574"


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0005_search_automerge"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="content_type",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            to="contenttypes.contenttype"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "core_auditentry" ("content_type_id")',
                ),
            ],
        ),
    ]
