"""Comments on a contact or a deal show on its company's timeline too: each comment keeps the company of the
record it was written on (company_rollup_id), as activities keep a link to it. Existing comments get the
company their contact or deal has now."""

from django.conf import settings
from django.db import migrations, models

BACKFILL = [
    "UPDATE activities_comment SET company_rollup_id = (SELECT c.company_id FROM contacts_contact c "
    "WHERE c.id = activities_comment.record_id) WHERE record_type = 'contact'",
    "UPDATE activities_comment SET company_rollup_id = (SELECT d.company_id FROM sales_deal d "
    "WHERE d.id = activities_comment.record_id) WHERE record_type = 'deal'",
]


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0002_link_pinned"),
        ("contacts", "0005_owner_updated_indexes"),
        ("sales", "0002_external_id"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="company_rollup_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="comment",
            index=models.Index(condition=models.Q(("company_rollup_id__isnull", False)),
                               fields=["company_rollup_id", "-created_at", "-id"], name="comment_company_rollup_idx"),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
