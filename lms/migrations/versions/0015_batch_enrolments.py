"""certificate batches record the enrolments the admin confirmed

Revision ID: 0015_batch_enrolments
Revises: 0014_board_search_index
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_batch_enrolments'
down_revision = '0014_board_search_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolment_ids', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.drop_column('enrolment_ids')
