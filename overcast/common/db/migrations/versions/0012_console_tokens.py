"""console tokens

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compute_console_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('console_type', sa.String(length=32), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=True),
    sa.Column('internal_access_path', sa.String(length=255), nullable=True),
    sa.Column('access_url_base', sa.String(length=255), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_console_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_compute_console_tokens_token_hash'))
    )
    with op.batch_alter_table('compute_console_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_console_tokens_expires'), ['expires'], unique=False)
        batch_op.create_index(batch_op.f('ix_compute_console_tokens_instance_uuid'), ['instance_uuid'], unique=False)



def downgrade():
    with op.batch_alter_table('compute_console_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compute_console_tokens_instance_uuid'))
        batch_op.drop_index(batch_op.f('ix_compute_console_tokens_expires'))

    op.drop_table('compute_console_tokens')
