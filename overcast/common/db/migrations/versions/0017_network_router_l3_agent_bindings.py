"""network agent scheduling: the L3 agent each router runs on, and DHCP agent rows that
are bindings only (an admin's removal under the old every-agent rule is dropped)

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('network_router_l3_agent_bindings',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['network_agents.id'], name=op.f('fk_network_router_l3_agent_bindings_agent_id_network_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['network_routers.id'], name=op.f('fk_network_router_l3_agent_bindings_router_id_network_routers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id', name=op.f('pk_network_router_l3_agent_bindings'))
    )
    with op.batch_alter_table('network_router_l3_agent_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_router_l3_agent_bindings_agent_id'), ['agent_id'], unique=False)
    op.execute(sa.text("DELETE FROM network_dhcp_agent_choices WHERE hosted = :no").bindparams(no=False))


def downgrade():
    with op.batch_alter_table('network_router_l3_agent_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_router_l3_agent_bindings_agent_id'))
    op.drop_table('network_router_l3_agent_bindings')
