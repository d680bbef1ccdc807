"""Make the audit trail append-only in the database itself (PostgreSQL, production).

No UPDATE, DELETE or TRUNCATE of audit entries gets through, whatever the code does (the
operator admin, `auditlogflush`, a bug); only the test suite may TRUNCATE, to reset its
databases (tests/conftest.py sets ruangbk.allow_audit_truncate). SQLite, the demo
database, has no such guard: Django empties its tables with DELETE between tests.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ruangbk_audit_append_only() RETURNS trigger AS $$
BEGIN
    -- Only the test suite sets this, to empty its databases between tests.
    IF TG_OP = 'TRUNCATE'
       AND current_setting('ruangbk.allow_audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ruangbk_audit_append_only
    BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION ruangbk_audit_append_only();
CREATE TRIGGER ruangbk_audit_no_truncate
    BEFORE TRUNCATE ON auditlog_logentry
    FOR EACH STATEMENT EXECUTE FUNCTION ruangbk_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS ruangbk_audit_no_truncate ON auditlog_logentry;
DROP TRIGGER IF EXISTS ruangbk_audit_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS ruangbk_audit_append_only();
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the SQL holds a literal %


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunPython(create, drop)]
