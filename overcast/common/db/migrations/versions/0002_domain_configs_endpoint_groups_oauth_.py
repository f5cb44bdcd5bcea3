"""domain configs, endpoint groups, oauth consumers

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_endpoint_groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_endpoint_groups'))
    )
    op.create_table('identity_oauth_consumers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('encrypted_secret', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_consumers'))
    )
    op.create_table('identity_domain_configs',
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=False),
    sa.Column('option', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['identity_domains.id'], name=op.f('fk_identity_domain_configs_domain_id_identity_domains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain_id', 'group', 'option', name=op.f('pk_identity_domain_configs'))
    )


def downgrade():
    op.drop_table('identity_domain_configs')
    op.drop_table('identity_oauth_consumers')
    op.drop_table('identity_endpoint_groups')
