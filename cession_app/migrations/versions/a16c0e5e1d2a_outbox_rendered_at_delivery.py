"""outbox: mails rendered at delivery (context and time zone; bodies filled when sent)

Revision ID: a16c0e5e1d2a
Revises: 3dd0517aa72e
Create Date: 2026-12-02 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a16c0e5e1d2a'
down_revision = '3dd0517aa72e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('context', sa.Text(), nullable=True))
        batch_op.alter_column('subject', existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column('text_body', existing_type=sa.Text(), nullable=True)
        batch_op.alter_column('html_body', existing_type=sa.Text(), nullable=True)


def downgrade():
    # The older version cannot render: a message not rendered yet is dropped from its queue
    # (marked failed, with the reason), never sent empty.
    op.execute(
        "UPDATE outbox SET status = 'failed', failure_kind = 'unsendable',"
        " failed_at = CURRENT_TIMESTAMP, last_error = 'not rendered before the downgrade',"
        " subject = '', text_body = '',"
        " html_body = '' WHERE text_body IS NULL"
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('html_body', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('text_body', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('subject', existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column('context')
        batch_op.drop_column('timezone')
