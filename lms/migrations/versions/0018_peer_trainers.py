"""co-production: which tutors co-deliver from lived experience (peer trainers)

Revision ID: 0018_peer_trainers
Revises: 0017_diary_count_index
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_peer_trainers'
down_revision = '0017_diary_count_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("role_grants") as batch:
        batch.add_column(sa.Column("peer_trainer", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade():
    with op.batch_alter_table("role_grants") as batch:
        batch.drop_column("peer_trainer")
