"""volume backup keys: encryption_key_id on backups (a copy of an encrypted volume's key)

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('volume_backups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encryption_key_id', sa.String(length=36), nullable=True))


def downgrade():
    with op.batch_alter_table('volume_backups', schema=None) as batch_op:
        batch_op.drop_column('encryption_key_id')
