"""object store timestamps as 8-byte floats: MariaDB/MySQL keep a plain FLOAT in 4 bytes,
about two minutes apart at today's epoch (Last-Modified, If-Modified-Since and X-Timestamp
were off by up to a minute there); SQLite's REAL and PostgreSQL's FLOAT were already 8 bytes

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = [('objectstore_accounts', 'created_at'), ('objectstore_containers', 'created_at'),
           ('objectstore_containers', 'updated_at'), ('objectstore_objects', 'last_modified')]


def _retype(old, new):
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade():
    _retype(sa.Float(), sa.Double())


def downgrade():
    _retype(sa.Double(), sa.Float())
