"""pass products: season pass products and the events they include (issue 12)

- ``passproduct``: per season, name, price and currency, who may buy it and where, a fixed
  seat (numbered area) or general admission, automatic or with a choice of N dates, the holder
  fields to ask (JSON), an accent colour and a note;
- ``passproductevent``: the events a product includes (automatic) or allows (choice).

New tables only: nothing existing changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db  # noqa: F401 - kept like every revision


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('passproduct',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('customer_types', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('buy_channels', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seating', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('includes', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('choice_count', sa.Integer(), nullable=True),
    sa.Column('holder_fields', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('free_field_label', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('accent_colour', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_passproduct_price_not_negative')),
    sa.CheckConstraint("seating IN ('fixed_seat', 'ga')", name=op.f('ck_passproduct_seating_known')),
    sa.CheckConstraint("includes IN ('automatic', 'choice')", name=op.f('ck_passproduct_includes_known')),
    sa.CheckConstraint(
        "(includes = 'choice' AND choice_count >= 1) "
        "OR (includes = 'automatic' AND choice_count IS NULL)",
        name=op.f('ck_passproduct_choice_count_fits'),
    ),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_passproduct_area_id_area')),
    sa.ForeignKeyConstraint(['season_id'], ['season.id'], name=op.f('fk_passproduct_season_id_season')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passproduct')),
    sa.UniqueConstraint('season_id', 'name', name=op.f('uq_passproduct_season_id_name'))
    )
    with op.batch_alter_table('passproduct', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passproduct_season_id'), ['season_id'], unique=False)

    op.create_table('passproductevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_passproductevent_event_id_event')),
    sa.ForeignKeyConstraint(['product_id'], ['passproduct.id'], name=op.f('fk_passproductevent_product_id_passproduct')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passproductevent')),
    sa.UniqueConstraint('product_id', 'event_id', name=op.f('uq_passproductevent_product_id_event_id'))
    )
    with op.batch_alter_table('passproductevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passproductevent_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_passproductevent_product_id'), ['product_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('passproductevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passproductevent_product_id'))
        batch_op.drop_index(batch_op.f('ix_passproductevent_event_id'))
    op.drop_table('passproductevent')
    with op.batch_alter_table('passproduct', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passproduct_season_id'))
    op.drop_table('passproduct')
