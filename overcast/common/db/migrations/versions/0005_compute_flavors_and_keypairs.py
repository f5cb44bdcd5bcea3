"""compute flavors and keypairs

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compute_flavors',
    sa.Column('flavorid', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('memory_mb', sa.Integer(), nullable=False),
    sa.Column('vcpus', sa.Integer(), nullable=False),
    sa.Column('root_gb', sa.Integer(), nullable=False),
    sa.Column('ephemeral_gb', sa.Integer(), nullable=False),
    sa.Column('swap', sa.Integer(), nullable=False),
    sa.Column('rxtx_factor', sa.Float(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('flavorid', name=op.f('pk_compute_flavors')),
    sa.UniqueConstraint('name', name=op.f('uq_compute_flavors_name'))
    )
    op.create_table('compute_keypairs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=8), nullable=False),
    sa.Column('fingerprint', sa.String(length=255), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_keypairs')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_compute_keypairs_user_id'))
    )
    with op.batch_alter_table('compute_keypairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_keypairs_user_id'), ['user_id'], unique=False)

    op.create_table('compute_flavor_access',
    sa.Column('flavorid', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['flavorid'], ['compute_flavors.flavorid'], name=op.f('fk_compute_flavor_access_flavorid_compute_flavors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flavorid', 'project_id', name=op.f('pk_compute_flavor_access'))
    )
    op.create_table('compute_flavor_extra_specs',
    sa.Column('flavorid', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['flavorid'], ['compute_flavors.flavorid'], name=op.f('fk_compute_flavor_extra_specs_flavorid_compute_flavors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flavorid', 'key', name=op.f('pk_compute_flavor_extra_specs'))
    )


def downgrade():
    op.drop_table('compute_flavor_extra_specs')
    op.drop_table('compute_flavor_access')
    with op.batch_alter_table('compute_keypairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compute_keypairs_user_id'))

    op.drop_table('compute_keypairs')
    op.drop_table('compute_flavors')
