"""invoice payments: which payment intent paid an invoice

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "invoice_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_payments")),
        sa.UniqueConstraint(
            "stripe_invoice_id", name=op.f("uq_invoice_payments_stripe_invoice_id")
        ),
    )
    # Membership payments recorded so far already name their payment intent: keep the link.
    op.execute(
        "INSERT INTO invoice_payments (stripe_invoice_id, stripe_payment_intent_id, paid_at, "
        "created_at) SELECT stripe_invoice_id, stripe_payment_intent_id, paid_at, created_at "
        "FROM donations WHERE stripe_invoice_id IS NOT NULL"
    )


def downgrade():
    op.drop_table("invoice_payments")
