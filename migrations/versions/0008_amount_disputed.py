"""payment adjustments: the amount a dispute holds back

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment_adjustments") as batch:
        batch.add_column(
            sa.Column("amount_disputed", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            op.f("ck_payment_adjustments_dispute_not_negative"), "amount_disputed >= 0"
        )
    # The dispute's own amount was not kept so far; a dispute is almost always for the
    # whole payment, so open and lost ones hold back the payment's amount.
    op.execute(
        "UPDATE payment_adjustments SET amount_disputed = COALESCE(("
        "SELECT donations.amount FROM donations WHERE donations.stripe_payment_intent_id"
        " = payment_adjustments.stripe_payment_intent_id), 0) "
        "WHERE dispute_status IN ("
        "'needs_response', 'under_review', 'appeal_needs_response', 'appeal_under_review', 'lost')"
    )


def downgrade():
    with op.batch_alter_table("payment_adjustments") as batch:
        batch.drop_constraint(op.f("ck_payment_adjustments_dispute_not_negative"), type_="check")
        batch.drop_column("amount_disputed")
