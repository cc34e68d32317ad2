"""outbox: per-message delivery states, claims and failures

Revision ID: f3838deaaea8
Revises: f03a81e368d9
Create Date: 2026-12-02 03:05:25.549445

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3838deaaea8'
down_revision = 'f03a81e368d9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failure_kind', sa.String(length=16), nullable=True))
        batch_op.drop_index(batch_op.f('ix_outbox_pending'))
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
    # Messages delivered before this version are sent; the others stay pending.
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")


def downgrade():
    # The older version knows only sent or not: a failed message must not go back to its
    # queue (it would block all mail there again), so it counts as done.
    op.execute("UPDATE outbox SET sent_at = failed_at WHERE status = 'failed'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index(batch_op.f('ix_outbox_pending'), ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('failure_kind')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('status')
