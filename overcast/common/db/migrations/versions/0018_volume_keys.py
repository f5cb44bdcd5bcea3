"""volume keys: the local key manager's table, and encryption_key_id on volumes and snapshots

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volume_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=True),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('bit_length', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_keys'))
    )
    with op.batch_alter_table('volume_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_keys_project_id'), ['project_id'], unique=False)
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encryption_key_id', sa.String(length=36), nullable=True))
    with op.batch_alter_table('volume_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encryption_key_id', sa.String(length=36), nullable=True))


def downgrade():
    with op.batch_alter_table('volume_snapshots', schema=None) as batch_op:
        batch_op.drop_column('encryption_key_id')
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.drop_column('encryption_key_id')
    with op.batch_alter_table('volume_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_keys_project_id'))
    op.drop_table('volume_keys')
