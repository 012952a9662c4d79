"""pending_disputes (a dispute waiting for its charge) and memberships.fact_before (ties)

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-10

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("fact_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_disputes")),
        sa.UniqueConstraint(
            "stripe_dispute_id", name=op.f("uq_pending_disputes_stripe_dispute_id")
        ),
    )
    op.create_index(
        op.f("ix_pending_disputes_stripe_charge_id"), "pending_disputes", ["stripe_charge_id"]
    )
    # Empty for memberships applied before: a tie with their last fact goes by rank, as before.
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("fact_before", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("fact_before")
    op.drop_index(op.f("ix_pending_disputes_stripe_charge_id"), table_name="pending_disputes")
    op.drop_table("pending_disputes")
