"""compute instances: kernel_id and ramdisk_id (from the image's properties, as Nova keeps them)

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compute_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kernel_id', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ramdisk_id', sa.String(length=255), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('compute_instances', schema=None) as batch_op:
        batch_op.drop_column('ramdisk_id')
        batch_op.drop_column('kernel_id')
