"""object store container sync: each container's sync point and lease, and the change log
(uploads and deletions) its syncer sends to the other container

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _bytewise(length):
    return (sa.String(length=length)
            .with_variant(sa.String(length=length, collation='utf8mb4_bin'), 'mariadb')
            .with_variant(sa.String(length=length, collation='utf8mb4_bin'), 'mysql')
            .with_variant(sa.String(length=length, collation='C'), 'postgresql'))


def upgrade():
    with op.batch_alter_table('objectstore_containers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_point', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sync_lease', sa.Double(), nullable=True))
    op.create_table('objectstore_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('container_id', sa.Integer(), nullable=False),
    sa.Column('name', _bytewise(1024), nullable=False),
    sa.Column('name_hash', sa.String(length=40), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('stamp', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['container_id'], ['objectstore_containers.id'], name=op.f('fk_objectstore_changes_container_id_objectstore_containers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objectstore_changes')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('objectstore_changes', schema=None) as batch_op:
        batch_op.create_index('ix_objectstore_changes_name', ['container_id', 'name_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('objectstore_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_objectstore_changes_name')
    op.drop_table('objectstore_changes')
    with op.batch_alter_table('objectstore_containers', schema=None) as batch_op:
        batch_op.drop_column('sync_lease')
        batch_op.drop_column('sync_point')
