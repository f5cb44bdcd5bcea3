"""volume admin metadata and incremental backup chains

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_meta', sa.JSON(), nullable=True))
    with op.batch_alter_table('volume_backups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_volume_backups_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('volume_backups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_backups_parent_id'))
        batch_op.drop_column('parent_id')
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.drop_column('admin_meta')
