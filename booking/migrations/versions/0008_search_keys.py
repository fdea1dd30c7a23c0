"""folded search keys for customers (issue 10)

The console's one search (booking.queries.search) finds customers by folded tokens: name and
company words without accents or case, the email, the phone in E.164 and national digits
(booking.rules.search_keys). ``customer.search_key`` keeps them space-separated;
``customertoken`` holds one row per (token, customer), its primary key answering "a token
starting with x" as one index range. Existing customers get theirs here, in batches, folded in
Python so that SQLite and PostgreSQL hold the same strings.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - kept like every revision
import booking.db  # noqa: F401 - kept like every revision

from booking.rules.search_keys import MAX_TOKEN, search_key, tokens_of


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_key', sa.Text(), server_default='', nullable=False))
    op.create_table('customertoken',
    sa.Column('token', sa.String(length=MAX_TOKEN).with_variant(
        sa.String(length=MAX_TOKEN, collation='C'), 'postgresql'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                            name=op.f('fk_customertoken_customer_id_customer'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', 'customer_id', name=op.f('pk_customertoken')),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_customertoken_customer', 'customertoken', ['customer_id'], unique=False)
    _backfill(op.get_bind())


def _backfill(bind: sa.engine.Connection) -> None:
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, name, email_key, email, phone, company FROM customer WHERE id > :last "
            "ORDER BY id LIMIT :n"
        ), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        keys = [(r[0], search_key(r[1] or "", r[2] or r[3], r[4] or "", r[5] or "")) for r in rows]
        bind.execute(sa.text("UPDATE customer SET search_key = :k WHERE id = :i"),
                     [{"k": k, "i": i} for i, k in keys])
        tokens = [{"t": t, "i": i} for i, k in keys for t in sorted(tokens_of(k))]
        if tokens:
            bind.execute(sa.text(
                "INSERT INTO customertoken (token, customer_id) VALUES (:t, :i)"
            ), tokens)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_customertoken_customer', table_name='customertoken')
    op.drop_table('customertoken')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('search_key')
