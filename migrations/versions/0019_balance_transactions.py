"""balance_transactions (Stripe's fees and net per payment) and memberships.recurring_amount

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "balance_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_balance_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("reporting_category", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("net", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_rate", sa.String(length=32), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_dispute_id", sa.String(length=255), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "net = amount - fee", name=op.f("ck_balance_transactions_net_is_amount_less_fee")
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = lower(currency)",
            name=op.f("ck_balance_transactions_currency_iso"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_transactions")),
        sa.UniqueConstraint(
            "stripe_balance_transaction_id",
            name=op.f("uq_balance_transactions_stripe_balance_transaction_id"),
        ),
    )
    op.create_index("ix_balance_transactions_created", "balance_transactions", ["created"])
    op.create_index(
        op.f("ix_balance_transactions_source_id"), "balance_transactions", ["source_id"]
    )
    op.create_index(
        op.f("ix_balance_transactions_stripe_payment_intent_id"),
        "balance_transactions",
        ["stripe_payment_intent_id"],
    )
    # Empty for memberships applied before: their amount stands for their recurring revenue,
    # as it did, until the next fact about them.
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("recurring_amount", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("recurring_amount")
    op.drop_index(
        op.f("ix_balance_transactions_stripe_payment_intent_id"),
        table_name="balance_transactions",
    )
    op.drop_index(op.f("ix_balance_transactions_source_id"), table_name="balance_transactions")
    op.drop_index("ix_balance_transactions_created", table_name="balance_transactions")
    op.drop_table("balance_transactions")
