"""mail authority: inbound mail records for machine mail, bounces and unreadable messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Who got an email because of each inbound message (answers are limited per recipient),
    # and the indexes the limit and the console's "latest bounce" read.
    with op.batch_alter_table('inboundmail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notified_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_inboundmail_answered_id_customer'), 'customer', ['answered_id'], ['id'])
        batch_op.create_foreign_key(op.f('fk_inboundmail_notified_id_customer'), 'customer', ['notified_id'], ['id'])
        batch_op.create_index('ix_inboundmail_customer', ['customer_id', 'received_at'], unique=False)
        batch_op.create_index('ix_inboundmail_answered', ['answered_id', 'received_at'], unique=False)
        batch_op.create_index('ix_inboundmail_notified', ['notified_id', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inboundmail', schema=None) as batch_op:
        batch_op.drop_index('ix_inboundmail_notified')
        batch_op.drop_index('ix_inboundmail_answered')
        batch_op.drop_index('ix_inboundmail_customer')
        batch_op.drop_constraint(op.f('fk_inboundmail_notified_id_customer'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_inboundmail_answered_id_customer'), type_='foreignkey')
        batch_op.drop_column('notified_id')
        batch_op.drop_column('answered_id')
