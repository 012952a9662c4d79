"""refunds by their own status; the newest charge total on each payment's adjustment

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fact_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_refunds_amount_not_negative")),
        sa.CheckConstraint(
            "status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')",
            name=op.f("ck_refunds_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("stripe_refund_id", name=op.f("uq_refunds_stripe_refund_id")),
    )
    op.create_index(
        op.f("ix_refunds_stripe_charge_id"), "refunds", ["stripe_charge_id"], unique=False
    )
    op.create_index(
        op.f("ix_refunds_stripe_payment_intent_id"),
        "refunds",
        ["stripe_payment_intent_id"],
        unique=False,
    )
    op.add_column(
        "payment_adjustments", sa.Column("charge_amount_refunded", sa.Integer(), nullable=True)
    )
    op.add_column(
        "payment_adjustments",
        sa.Column("charge_fact_at", sa.DateTime(timezone=True), nullable=True),
    )
    # What was recorded so far came from charge totals: keep it as the charge's total.
    op.execute(
        "UPDATE payment_adjustments SET charge_amount_refunded = amount_refunded, "
        "charge_fact_at = updated_at WHERE amount_refunded > 0"
    )


def downgrade():
    with op.batch_alter_table("payment_adjustments") as batch:
        batch.drop_column("charge_fact_at")
        batch.drop_column("charge_amount_refunded")
    op.drop_index(op.f("ix_refunds_stripe_payment_intent_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_stripe_charge_id"), table_name="refunds")
    op.drop_table("refunds")
