"""volume clusters: the clusters table, cluster_name on volume services and volumes

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volume_clusters',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('binary', sa.String(length=64), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', 'binary', name=op.f('pk_volume_clusters'))
    )
    with op.batch_alter_table('volume_services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster_name', sa.String(length=255), nullable=True))
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster_name', sa.String(length=255), nullable=True))



def downgrade():
    with op.batch_alter_table('volume_volumes', schema=None) as batch_op:
        batch_op.drop_column('cluster_name')
    with op.batch_alter_table('volume_services', schema=None) as batch_op:
        batch_op.drop_column('cluster_name')
    op.drop_table('volume_clusters')
