"""Alembic environment: runs migrations against the app's own engine."""

import logging

from alembic import context
from flask import current_app

from lms.database import managed_by_alembic

config = context.config
logger = logging.getLogger("alembic.env")
target_metadata = current_app.extensions["migrate"].db.metadata


def run_migrations_offline():
    context.configure(url=current_app.config["SQLALCHEMY_DATABASE_URI"], target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_object=managed_by_alembic)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    connectable = current_app.extensions["migrate"].db.engine
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          process_revision_directives=skip_empty, render_as_batch=True,
                          compare_type=True, include_object=managed_by_alembic)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
