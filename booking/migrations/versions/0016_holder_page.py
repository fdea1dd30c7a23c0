"""holder page (issue 13, item 1): one-time codes, sessions and throttling counters

``holdercode`` holds one row per sign-in request of ``/account`` (the hashes of the browser's
challenge and of the mailed code, tries counted, single use); ``holdersession`` one row per
holder page sign-in (the cookie carries a random token, the table its SHA-256);
``holderthrottle`` one counter per key (client address, email and pass code, tries of a client),
bumped by a conditional upsert.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holdercode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('email_key', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('pass_code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_holdercode_attempts_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_holdercode_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdercode')),
    sa.UniqueConstraint('challenge_hash', name=op.f('uq_holdercode_challenge_hash'))
    )
    with op.batch_alter_table('holdercode', schema=None) as batch_op:
        batch_op.create_index('ix_holdercode_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdercode_customer_id'), ['customer_id'], unique=False)

    op.create_table('holdersession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('email_key', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('pass_code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_holdersession_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdersession')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_holdersession_token_hash'))
    )
    with op.batch_alter_table('holdersession', schema=None) as batch_op:
        batch_op.create_index('ix_holdersession_customer', ['customer_id', 'ended_at'], unique=False)

    op.create_table('holderthrottle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('window_start', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_holderthrottle'))
    )


def downgrade() -> None:
    op.drop_table('holderthrottle')
    with op.batch_alter_table('holdersession', schema=None) as batch_op:
        batch_op.drop_index('ix_holdersession_customer')
    op.drop_table('holdersession')
    with op.batch_alter_table('holdercode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holdercode_customer_id'))
        batch_op.drop_index('ix_holdercode_created')
    op.drop_table('holdercode')
