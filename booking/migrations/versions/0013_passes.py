"""passes: season passes sold (issue 12, pass sale)

- ``seasonpass``: one sold pass: product, holder (customer), the booking that bought it, the
  fixed seat, the holder's answers (JSON), a unique readable pass code and a unique QR secret,
  a credit balance;
- ``tariff.pass_product_id``: a pass product's own tariff per included event (the tariff of
  its items, never offered alone), unique per (product, event).

Existing rows are unchanged: every tariff so far is a regular one (NULL).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:28:06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db  # noqa: F401 - kept like every revision


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seasonpass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('credit_minor', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('credit_minor >= 0', name=op.f('ck_seasonpass_credit_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_seasonpass_booking_id_booking')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_seasonpass_customer_id_customer')),
    sa.ForeignKeyConstraint(['product_id'], ['passproduct.id'], name=op.f('fk_seasonpass_product_id_passproduct')),
    sa.ForeignKeyConstraint(['seat_id'], ['seat.id'], name=op.f('fk_seasonpass_seat_id_seat')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seasonpass')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_seasonpass_booking_id')),
    sa.UniqueConstraint('code', name=op.f('uq_seasonpass_code')),
    sa.UniqueConstraint('secret', name=op.f('uq_seasonpass_secret'))
    )
    with op.batch_alter_table('seasonpass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seasonpass_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seasonpass_product_id'), ['product_id'], unique=False)

    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_product_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tariff_pass_product_id_event_id'), ['pass_product_id', 'event_id'])
        batch_op.create_foreign_key(batch_op.f('fk_tariff_pass_product_id_passproduct'), 'passproduct', ['pass_product_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tariff_pass_product_id_passproduct'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_tariff_pass_product_id_event_id'), type_='unique')
        batch_op.drop_column('pass_product_id')

    with op.batch_alter_table('seasonpass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seasonpass_product_id'))
        batch_op.drop_index(batch_op.f('ix_seasonpass_customer_id'))

    op.drop_table('seasonpass')
