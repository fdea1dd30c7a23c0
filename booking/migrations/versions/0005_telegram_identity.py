"""telegram identity: single-use deep links, unverified emails, code attempts per address

A deep link is a row (the hash of its nonce, its customer, expiry, use); a code row keeps the
address it was mailed to, which stays unverified until the code comes back, and is counted per
address as well as per Telegram account.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deeplink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_deeplink_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deeplink')),
    sa.UniqueConstraint('nonce_hash', name=op.f('uq_deeplink_nonce_hash'))
    )
    with op.batch_alter_table('deeplink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deeplink_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_deeplink_expires', ['expires_at'], unique=False)

    with op.batch_alter_table('linkcode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('email_key', sqlmodel.sql.sqltypes.AutoString(length=254), server_default='', nullable=False))
        batch_op.create_index('ix_linkcode_email', ['email_key', 'created_at'], unique=False)
        batch_op.create_index('ix_linkcode_created', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('linkcode', schema=None) as batch_op:
        batch_op.drop_index('ix_linkcode_created')
        batch_op.drop_index('ix_linkcode_email')
        batch_op.drop_column('email_key')
        batch_op.drop_column('email')

    with op.batch_alter_table('deeplink', schema=None) as batch_op:
        batch_op.drop_index('ix_deeplink_expires')
        batch_op.drop_index(batch_op.f('ix_deeplink_customer_id'))

    op.drop_table('deeplink')
