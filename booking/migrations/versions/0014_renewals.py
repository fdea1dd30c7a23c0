"""renewals: campaigns, kept seats, the same pass code and QR across seasons (issue 12)

- ``renewalcampaign``, ``renewaloffer``, ``renewal``: a campaign from last season's product to
  the new season's offered products, and one row per invited holder;
- ``seatclaim.renewal_id``: a seat kept for a holder during the window (no item yet);
- ``seasonpass``: ``season_id`` (the product's, filled in for existing passes), the pass code and
  QR secret unique per season instead of overall (a renewal copies them), ``renewed_from_id``
  (unique: a pass is renewed once), ``photo_id``, ``choices_left`` (a pass with choice: the dates still to pick);
- ``passphoto``: the holder's photo, a small JPEG.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:52:40.525948
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('passphoto',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_passphoto_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passphoto'))
    )
    with op.batch_alter_table('passphoto', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passphoto_customer_id'), ['customer_id'], unique=False)

    op.create_table('renewalcampaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_product_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('opens_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closes_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminder_days', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('launched_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'open', 'closed')", name=op.f('ck_renewalcampaign_state_known')),
    sa.CheckConstraint('opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at', name=op.f('ck_renewalcampaign_window_ordered')),
    sa.ForeignKeyConstraint(['created_by'], ['staffuser.id'], name=op.f('fk_renewalcampaign_created_by_staffuser')),
    sa.ForeignKeyConstraint(['from_product_id'], ['passproduct.id'], name=op.f('fk_renewalcampaign_from_product_id_passproduct')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewalcampaign'))
    )
    with op.batch_alter_table('renewalcampaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renewalcampaign_from_product_id'), ['from_product_id'], unique=False)

    op.create_table('renewaloffer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['renewalcampaign.id'], name=op.f('fk_renewaloffer_campaign_id_renewalcampaign')),
    sa.ForeignKeyConstraint(['product_id'], ['passproduct.id'], name=op.f('fk_renewaloffer_product_id_passproduct')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewaloffer')),
    sa.UniqueConstraint('campaign_id', 'product_id', name=op.f('uq_renewaloffer_campaign_id_product_id'))
    )
    with op.batch_alter_table('renewaloffer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renewaloffer_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_renewaloffer_product_id'), ['product_id'], unique=False)

    op.create_table('renewal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('new_pass_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', booking.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('renewed_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', booking.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('invited', 'renewed', 'released')", name=op.f('ck_renewal_state_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['renewalcampaign.id'], name=op.f('fk_renewal_campaign_id_renewalcampaign')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_renewal_customer_id_customer')),
    sa.ForeignKeyConstraint(['new_pass_id'], ['seasonpass.id'], name=op.f('fk_renewal_new_pass_id_seasonpass')),
    sa.ForeignKeyConstraint(['pass_id'], ['seasonpass.id'], name=op.f('fk_renewal_pass_id_seasonpass')),
    sa.ForeignKeyConstraint(['product_id'], ['passproduct.id'], name=op.f('fk_renewal_product_id_passproduct')),
    sa.ForeignKeyConstraint(['seat_id'], ['seat.id'], name=op.f('fk_renewal_seat_id_seat')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewal')),
    sa.UniqueConstraint('campaign_id', 'pass_id', name=op.f('uq_renewal_campaign_id_pass_id'))
    )
    with op.batch_alter_table('renewal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renewal_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_renewal_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_renewal_pass_id'), ['pass_id'], unique=False)

    with op.batch_alter_table('seasonpass', schema=None) as batch_op:
        batch_op.add_column(sa.Column('season_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('renewed_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('photo_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('choices_left', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE seasonpass SET season_id = "
        "(SELECT season_id FROM passproduct WHERE passproduct.id = seasonpass.product_id)"
    )
    with op.batch_alter_table('seasonpass', schema=None) as batch_op:
        batch_op.alter_column('season_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_seasonpass_choices_left_not_negative'), 'choices_left >= 0')
        batch_op.drop_constraint(batch_op.f('uq_seasonpass_code'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_seasonpass_secret'), type_='unique')
        batch_op.create_index(batch_op.f('ix_seasonpass_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_seasonpass_secret'), ['secret'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_seasonpass_renewed_from_id'), ['renewed_from_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_seasonpass_season_id_code'), ['season_id', 'code'])
        batch_op.create_unique_constraint(batch_op.f('uq_seasonpass_season_id_secret'), ['season_id', 'secret'])
        batch_op.create_foreign_key(batch_op.f('fk_seasonpass_renewed_from_id_seasonpass'), 'seasonpass', ['renewed_from_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_seasonpass_season_id_season'), 'season', ['season_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_seasonpass_photo_id_passphoto'), 'passphoto', ['photo_id'], ['id'])

    with op.batch_alter_table('seatclaim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_seatclaim_renewal_id'), ['renewal_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_seatclaim_renewal_id_renewal'), 'renewal', ['renewal_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('seatclaim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_seatclaim_renewal_id_renewal'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_seatclaim_renewal_id'))
        batch_op.drop_column('renewal_id')

    with op.batch_alter_table('seasonpass', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_seasonpass_photo_id_passphoto'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_seasonpass_season_id_season'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_seasonpass_renewed_from_id_seasonpass'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_seasonpass_season_id_secret'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_seasonpass_season_id_code'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_seasonpass_renewed_from_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_seasonpass_secret'))
        batch_op.drop_index(batch_op.f('ix_seasonpass_code'))
        batch_op.create_unique_constraint(batch_op.f('uq_seasonpass_secret'), ['secret'])
        batch_op.create_unique_constraint(batch_op.f('uq_seasonpass_code'), ['code'])
        batch_op.drop_constraint(batch_op.f('ck_seasonpass_choices_left_not_negative'), type_='check')
        batch_op.drop_column('choices_left')
        batch_op.drop_column('photo_id')
        batch_op.drop_column('renewed_from_id')
        batch_op.drop_column('season_id')

    with op.batch_alter_table('renewal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renewal_pass_id'))
        batch_op.drop_index(batch_op.f('ix_renewal_customer_id'))
        batch_op.drop_index(batch_op.f('ix_renewal_campaign_id'))

    op.drop_table('renewal')
    with op.batch_alter_table('renewaloffer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renewaloffer_product_id'))
        batch_op.drop_index(batch_op.f('ix_renewaloffer_campaign_id'))

    op.drop_table('renewaloffer')
    with op.batch_alter_table('renewalcampaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renewalcampaign_from_product_id'))

    op.drop_table('renewalcampaign')
    with op.batch_alter_table('passphoto', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passphoto_customer_id'))

    op.drop_table('passphoto')
