"""board search index: SQLite FTS5 table filled from published posts, or a PostgreSQL GIN index

Revision ID: 0014_board_search_index
Revises: 0013_batch_names
Create Date: 2026-12-04

The app still creates the index itself if it is missing (lms/boards/search.py
`ensure_index`), so a database made before this revision, or from the models
alone, keeps working; this revision builds it at upgrade time instead of on
the first post or search after a deployment, where on PostgreSQL it would
take a lock on board_posts in the middle of a request.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_board_search_index'
down_revision = '0013_batch_names'
branch_labels = None
depends_on = None

FTS_TABLE = "board_posts_fts"
PG_INDEX = "ix_board_posts_body_fts"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        exists = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)).first()
        if exists is None:
            op.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
                       "body, content='board_posts', content_rowid='id', tokenize='porter unicode61')")
            op.execute(f"INSERT INTO {FTS_TABLE} (rowid, body) SELECT id, body FROM board_posts "
                       "WHERE status = 'published'")
    elif bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON board_posts USING gin (to_tsvector('english', body))")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
