"""one-time keys of the console's create-booking form (issue 10)

``deskformkey``: one row per desk form whose post made a booking. The key is the primary key,
so two posts of one form (a double click, a reload, two at once on PostgreSQL) cannot both
claim it: the second is shown the booking the first made. No existing data to move.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deskformkey',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_deskformkey_booking_id_booking')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_deskformkey'))
    )
    with op.batch_alter_table('deskformkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deskformkey_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deskformkey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deskformkey_booking_id'))
    op.drop_table('deskformkey')
