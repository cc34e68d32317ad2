"""transfer items: an index on the service (a request is found by any of its domains)

Revision ID: b7e2c4d9a015
Revises: a16c0e5e1d2a
Create Date: 2026-12-02 18:35:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e2c4d9a015'
down_revision = 'a16c0e5e1d2a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transfer_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_items_service_id'), ['service_id'], unique=False)


def downgrade():
    with op.batch_alter_table('transfer_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_items_service_id'))
