"""image metadata definitions

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('image_metadef_namespaces',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('visibility', sa.String(length=32), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_namespaces')),
    sa.UniqueConstraint('namespace', name=op.f('uq_image_metadef_namespaces_namespace'))
    )
    with op.batch_alter_table('image_metadef_namespaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_metadef_namespaces_owner'), ['owner'], unique=False)

    op.create_table('image_metadef_resource_types',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_resource_types')),
    sa.UniqueConstraint('name', name=op.f('uq_image_metadef_resource_types_name'))
    )
    op.create_table('image_metadef_namespace_resource_types',
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('resource_type_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=80), nullable=True),
    sa.Column('properties_target', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespaces.id'], name='fk_image_metadef_assoc_namespace', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_type_id'], ['image_metadef_resource_types.id'], name='fk_image_metadef_assoc_resource_type', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('namespace_id', 'resource_type_id', name=op.f('pk_image_metadef_namespace_resource_types'))
    )
    with op.batch_alter_table('image_metadef_namespace_resource_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_metadef_namespace_resource_types_resource_type_id'), ['resource_type_id'], unique=False)

    op.create_table('image_metadef_objects',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('required', sa.Text(), nullable=True),
    sa.Column('properties', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespaces.id'], name='fk_image_metadef_objects_namespace', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_objects')),
    sa.UniqueConstraint('namespace_id', 'name', name=op.f('uq_image_metadef_objects_namespace_id'))
    )
    op.create_table('image_metadef_properties',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespaces.id'], name='fk_image_metadef_properties_namespace', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_properties')),
    sa.UniqueConstraint('namespace_id', 'name', name=op.f('uq_image_metadef_properties_namespace_id'))
    )
    op.create_table('image_metadef_tags',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespaces.id'], name='fk_image_metadef_tags_namespace', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_tags')),
    sa.UniqueConstraint('namespace_id', 'name', name=op.f('uq_image_metadef_tags_namespace_id'))
    )


def downgrade():
    op.drop_table('image_metadef_tags')
    op.drop_table('image_metadef_properties')
    op.drop_table('image_metadef_objects')
    with op.batch_alter_table('image_metadef_namespace_resource_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_metadef_namespace_resource_types_resource_type_id'))

    op.drop_table('image_metadef_namespace_resource_types')
    op.drop_table('image_metadef_resource_types')
    with op.batch_alter_table('image_metadef_namespaces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_metadef_namespaces_owner'))

    op.drop_table('image_metadef_namespaces')
