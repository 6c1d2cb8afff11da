"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from lms.app import create_app
from lms.database import managed_by_alembic
from lms.extensions import db
from tests.conftest import base_config, migrate_to_head, postgres_url


def fresh_database_url(tmp_path):
    pg = postgres_url()
    if pg is None:
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}", None
    server = make_url(pg)
    name = f"lms_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return server.set(database=name).render_as_string(hide_password=False), (admin, name)


def test_migrations_match_the_models(tmp_path):
    url, cleanup = fresh_database_url(tmp_path)
    try:
        app = create_app(base_config(url, tmp_path))
        migrate_to_head(app)
        with app.app_context():
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                                 "include_object": managed_by_alembic})
                differences = compare_metadata(context, db.metadata)
            tables = set(inspect(db.engine).get_table_names())
            db.engine.dispose()
        assert not differences, f"Models and migrations differ; run `lms db migrate`: {differences}"
        assert "users" in tables and "alembic_version" in tables
        # The board search index is built by the migrations, not on the first post or search.
        with app.app_context():
            with db.engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    assert "board_posts_fts" in tables
                else:
                    assert conn.execute(text("SELECT to_regclass('ix_board_posts_body_fts')")).scalar() is not None
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
