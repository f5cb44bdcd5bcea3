"""heartbeat configurations: what an agent reports with its beats (a network agent's
tunnel endpoint)

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_heartbeats') as batch_op:
        batch_op.add_column(sa.Column('configurations', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('service_heartbeats') as batch_op:
        batch_op.drop_column('configurations')
