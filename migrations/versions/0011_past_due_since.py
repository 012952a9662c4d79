"""memberships: when a past_due membership's last paid period ended (past_due_since)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # Left empty: the first `flask members expire-grace` (or `stripe sync`) fills it for each
    # past_due membership (its period end minus one billing period) and resets its cut-off.
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("past_due_since")
