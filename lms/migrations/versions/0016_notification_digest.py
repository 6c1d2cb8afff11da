"""notifications wait for the daily e-mail digest of people who chose one

Revision ID: 0016_notification_digest
Revises: 0015_batch_enrolments
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_notification_digest'
down_revision = '0015_batch_enrolments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_pending', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_notifications_email_pending'), ['email_pending'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_email_pending'))
        batch_op.drop_column('email_pending')
