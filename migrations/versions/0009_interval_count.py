"""memberships: Stripe's interval_count (a quarterly plan is month x 3), in the totals too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _recurring_totals(with_count: bool) -> None:
    """(Re)create recurring_totals and fill it from the memberships."""
    count = [sa.Column("interval_count", sa.Integer(), nullable=False)] if with_count else []
    key = ["currency", "interval", *(["interval_count"] if with_count else []), "amount"]
    checks = (
        [
            sa.CheckConstraint(
                "interval_count >= 1", name=op.f("ck_recurring_totals_interval_count_positive")
            )
        ]
        if with_count
        else []
    )
    op.create_table(
        "recurring_totals",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        *count,
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("memberships", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "interval IN ('month', 'year')", name=op.f("ck_recurring_totals_interval_known")
        ),
        sa.CheckConstraint(
            "memberships >= 0", name=op.f("ck_recurring_totals_memberships_not_negative")
        ),
        *checks,
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_recurring_totals")),
    )
    columns = ", ".join(key)
    # Derived data: recounted from the memberships, as the transitions would have kept it.
    op.execute(
        f"INSERT INTO recurring_totals ({columns}, memberships) "  # noqa: S608 (no input)
        f"SELECT {columns}, count(*) FROM memberships "
        "WHERE status IN ('active', 'trialing', 'past_due') "
        f"GROUP BY {columns}"
    )


def upgrade():
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(
            sa.Column("interval_count", sa.Integer(), nullable=False, server_default="1")
        )
        batch.create_check_constraint(
            op.f("ck_memberships_interval_count_positive"), "interval_count >= 1"
        )
    op.drop_table("recurring_totals")
    _recurring_totals(with_count=True)


def downgrade():
    op.drop_table("recurring_totals")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_constraint(op.f("ck_memberships_interval_count_positive"), type_="check")
        batch.drop_column("interval_count")
    _recurring_totals(with_count=False)
