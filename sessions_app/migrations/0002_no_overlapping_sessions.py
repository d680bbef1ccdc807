"""On PostgreSQL: no two time-holding sessions of one counselor, or of one student, overlap.

Exclusion constraints on tstzrange(starts_at, ends_at) (half-open, so back-to-back
sessions are fine), limited to the statuses that hold a time (see
CounselingSession.HOLDING_STATUSES). They are the database's guarantee whatever code
path writes a session; sessions_app.services checks the same rule first to give a
clear message. SQLite has no exclusion constraints: there the services' check runs
inside IMMEDIATE transactions, one writer at a time.
"""

from django.db import migrations

HOLDING = "('requested', 'confirmed', 'in_progress', 'completed', 'no_show')"
TABLE = "sessions_app_counselingsession"


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for person in ("counselor", "student"):
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT session_{person}_no_overlap "
            f"EXCLUDE USING gist ({person}_id WITH =, "
            "tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {HOLDING})"
        )


def remove_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for person in ("counselor", "student"):
        schema_editor.execute(
            f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS session_{person}_no_overlap"
        )


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0001_initial")]

    operations = [migrations.RunPython(add_constraints, remove_constraints)]
