"""door check-ins (issue 12, item 3)

``checkin`` holds one row per entitlement admitted to one performance; its unique index on
(entitlement kind, entitlement id, performance) admits a ticket once per performance, even
when two doors scan it at the same moment.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entitlement_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('entitlement_id', sa.Integer(), nullable=False),
    sa.Column('performance_id', sa.Integer(), nullable=False),
    sa.Column('admitted_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('door', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['performance_id'], ['performance.id'], name=op.f('fk_checkin_performance_id_performance')),
    sa.ForeignKeyConstraint(['staff_id'], ['staffuser.id'], name=op.f('fk_checkin_staff_id_staffuser')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin'))
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index('uq_checkin_entitlement', ['entitlement_kind', 'entitlement_id', 'performance_id'], unique=True)
        batch_op.create_index('ix_checkin_performance', ['performance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_performance')
        batch_op.drop_index('uq_checkin_entitlement')
    op.drop_table('checkin')
