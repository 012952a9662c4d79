"""recurring totals kept at write time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recurring_totals",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("memberships", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "interval IN ('month', 'year')", name=op.f("ck_recurring_totals_interval_known")
        ),
        sa.CheckConstraint(
            "memberships >= 0", name=op.f("ck_recurring_totals_memberships_not_negative")
        ),
        sa.PrimaryKeyConstraint("currency", "interval", "amount", name=op.f("pk_recurring_totals")),
    )
    # Start from the memberships already recorded; from here on the transitions keep it.
    op.execute(
        "INSERT INTO recurring_totals (currency, interval, amount, memberships) "
        "SELECT currency, interval, amount, count(*) FROM memberships "
        "WHERE status IN ('active', 'trialing', 'past_due') "
        "GROUP BY currency, interval, amount"
    )


def downgrade():
    op.drop_table("recurring_totals")
