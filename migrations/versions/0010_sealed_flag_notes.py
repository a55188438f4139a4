"""Flag notes sealed at rest (api.crypto): what a reporter writes about someone in danger
often says where they are.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
from psycopg2 import Binary
from psycopg2.extras import execute_values

from api.crypto import SealedNote

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000
NOTE = SealedNote()


def _rewrite(target: str, cast: str, convert) -> None:
    """Set flags.<target> to convert(note) for every row, one UPDATE per batch."""
    connection = op.get_bind().connection.dbapi_connection
    reader = connection.cursor(name="rewrite_flags")
    reader.itersize = BATCH
    reader.execute("SELECT id, note FROM flags")
    writer = connection.cursor()
    sql = f"UPDATE flags SET {target} = v.value FROM (VALUES %s) AS v(id, value) WHERE flags.id = v.id"
    while rows := reader.fetchmany(BATCH):
        values = [(row[0], convert(row[1])) for row in rows]
        execute_values(writer, sql, values, template=f"(%s::uuid, %s::{cast})", page_size=BATCH)
    reader.close()
    writer.close()


def _swap(new: str) -> None:
    op.execute("ALTER TABLE flags DROP COLUMN note")
    op.execute(f"ALTER TABLE flags RENAME COLUMN {new} TO note")
    op.execute("ALTER TABLE flags ALTER COLUMN note SET NOT NULL")


def upgrade() -> None:
    op.execute("ALTER TABLE flags ADD COLUMN note_sealed bytea")
    _rewrite("note_sealed", "bytea", lambda note: Binary(NOTE.seal(note)))
    _swap("note_sealed")


def downgrade() -> None:
    op.execute("ALTER TABLE flags ADD COLUMN note_plain text")
    _rewrite("note_plain", "text", NOTE.unseal)
    _swap("note_plain")
    op.execute("ALTER TABLE flags ALTER COLUMN note SET DEFAULT ''")
