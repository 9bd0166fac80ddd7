"""The access generation row and the PostgreSQL triggers that bump it (see orgs/access_cache.py)."""

from django.db import migrations, models

# The tables whose rows decide who a key is and what it may do.
WATCHED = [
    "apikeys_apikey",
    "accounts_user",
    "orgs_serviceaccount",
    "orgs_organization",
    "orgs_workspace",
    "orgs_orgmembership",
    "orgs_workspacemembership",
]
# Columns written on use, not on a change of access: a key's use or a login must not empty every cache.
IGNORED_COLUMNS = ["last_used_at", "last_login", "updated_at"]

BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION tether_access_changed() RETURNS trigger AS $$
BEGIN
    UPDATE orgs_accessgeneration SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _row_without_usage(alias: str) -> str:
    return "(to_jsonb({}) {})".format(alias, " ".join(f"- '{column}'" for column in IGNORED_COLUMNS))


def create_triggers(apps, schema_editor):
    apps.get_model("orgs", "AccessGeneration").objects.create(id=1, value=0)
    if schema_editor.connection.vendor != "postgresql":
        return  # the cache is off without the triggers (embedded SQLite: one process, no need)
    schema_editor.execute(BUMP_FUNCTION)
    changed = f"{_row_without_usage('OLD')} IS DISTINCT FROM {_row_without_usage('NEW')}"
    for table in WATCHED:
        schema_editor.execute(
            f"CREATE TRIGGER tether_access_insert_delete AFTER INSERT OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tether_access_changed()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER tether_access_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION tether_access_changed()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER tether_access_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tether_access_changed()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in WATCHED:
        for name in ("tether_access_insert_delete", "tether_access_update", "tether_access_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS tether_access_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_add_workspace_retention_days"),
        ("apikeys", "0002_create_run_token"),
        ("accounts", "0002_user_session_generation"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessGeneration",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
