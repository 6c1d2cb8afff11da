"""certificate batches record whether unconfirmed names were printed

Revision ID: 0013_batch_names
Revises: 0012_assessment_opt_outs
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_batch_names'
down_revision = '0012_assessment_opt_outs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('include_unconfirmed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.drop_column('include_unconfirmed')
