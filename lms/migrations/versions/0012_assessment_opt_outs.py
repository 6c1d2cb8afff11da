"""opting out of assessment, recorded change by change

Revision ID: 0012_assessment_opt_outs
Revises: 0011_progress
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
import lms.database


# revision identifiers, used by Alembic.
revision = '0012_assessment_opt_outs'
down_revision = '0011_progress'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_assessment_opt_outs_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_assessment_opt_outs_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_opt_outs'))
    )
    with op.batch_alter_table('assessment_opt_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_opt_outs_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_opt_outs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_opt_outs_enrolment_id'))

    op.drop_table('assessment_opt_outs')
