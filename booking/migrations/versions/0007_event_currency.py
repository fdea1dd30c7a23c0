"""currency on the event, tariffs inherit it (issue 10)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
