"""availability rules: tariff minimum and maximum per booking, event display fields (issue 11)

- ``tariff.min_per_booking`` (default 1) and ``tariff.max_per_booking`` (NULL: only the
  event's ``max_per_order`` caps it), enforced by the hold engine for every channel;
- ``event.show_remaining_below`` (default 0: never show "N left") and ``event.picture_url``
  (default empty: no picture).

Existing tariffs and events keep behaving as before: the defaults are exactly the old rules.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db  # noqa: F401 - kept like every revision


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'min_per_booking', sa.Integer(), server_default='1', nullable=False,
        ))
        batch_op.add_column(sa.Column('max_per_booking', sa.Integer(), nullable=True))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'show_remaining_below', sa.Integer(), server_default='0', nullable=False,
        ))
        batch_op.add_column(sa.Column(
            'picture_url', sqlmodel.sql.sqltypes.AutoString(length=500), server_default='',
            nullable=False,
        ))


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('picture_url')
        batch_op.drop_column('show_remaining_below')
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.drop_column('max_per_booking')
        batch_op.drop_column('min_per_booking')
