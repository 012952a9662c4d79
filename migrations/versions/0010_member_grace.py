"""memberships: the end of a past_due membership's grace (MEMBER_GRACE_DAYS)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # Every membership keeps counting as before; the setting is not known here, so the first
    # `flask members expire-grace` (or `stripe sync`) sets each past_due membership's cut-off.
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("grace_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("grace_expired", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("grace_expired")
        batch.drop_column("grace_ends_at")
