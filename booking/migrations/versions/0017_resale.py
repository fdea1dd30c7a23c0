"""resale (issue 13, part 2): the organizer's settings per event and the holders' listings

``resalesettings``: one row per event that allows resale (payouts offered, the fee as a whole
percent plus a fixed part, whether listed places sell before regular inventory).
``resalelisting``: one row per pass performance put on resale; its partial unique index
``uq_resalelisting_open`` keeps at most one open (listed or reserved) listing per pass
performance, on SQLite and PostgreSQL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 20:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OPEN = "state IN ('listed', 'reserved')"


def upgrade() -> None:
    op.create_table('resalesettings',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('payouts', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('fee_percent', sa.Integer(), nullable=False),
    sa.Column('fee_fixed_minor', sa.Integer(), nullable=False),
    sa.Column('sell_first', sa.Boolean(), nullable=False),
    sa.CheckConstraint('fee_percent >= 0 AND fee_percent <= 100', name=op.f('ck_resalesettings_fee_percent_range')),
    sa.CheckConstraint('fee_fixed_minor >= 0', name=op.f('ck_resalesettings_fee_fixed_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_resalesettings_event_id_event')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_resalesettings'))
    )
    op.create_table('resalelisting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=False),
    sa.Column('performance_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('payout', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('iban', sqlmodel.sql.sqltypes.AutoString(length=34), nullable=False),
    sa.Column('account_holder', sqlmodel.sql.sqltypes.AutoString(length=70), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('fee_minor', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('listed', 'reserved', 'sold', 'withdrawn', 'closed')", name=op.f('ck_resalelisting_state_known')),
    sa.CheckConstraint("payout IN ('donate', 'transfer', 'credit')", name=op.f('ck_resalelisting_payout_known')),
    sa.CheckConstraint('fee_minor >= 0 AND fee_minor <= price_minor', name=op.f('ck_resalelisting_fee_fits')),
    sa.CheckConstraint("payout = 'transfer' OR (iban = '' AND account_holder = '')", name=op.f('ck_resalelisting_bank_only_transfer')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_resalelisting_item_id_item')),
    sa.ForeignKeyConstraint(['pass_id'], ['seasonpass.id'], name=op.f('fk_resalelisting_pass_id_seasonpass')),
    sa.ForeignKeyConstraint(['performance_id'], ['performance.id'], name=op.f('fk_resalelisting_performance_id_performance')),
    sa.ForeignKeyConstraint(['seat_id'], ['seat.id'], name=op.f('fk_resalelisting_seat_id_seat')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resalelisting'))
    )
    with op.batch_alter_table('resalelisting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resalelisting_pass_id'), ['pass_id'], unique=False)
        batch_op.create_index('ix_resalelisting_performance_state', ['performance_id', 'state'], unique=False)
        batch_op.create_index('uq_resalelisting_open', ['pass_id', 'performance_id'], unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    with op.batch_alter_table('resalelisting', schema=None) as batch_op:
        batch_op.drop_index('uq_resalelisting_open')
        batch_op.drop_index('ix_resalelisting_performance_state')
        batch_op.drop_index(batch_op.f('ix_resalelisting_pass_id'))
    op.drop_table('resalelisting')
    op.drop_table('resalesettings')
