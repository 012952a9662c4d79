"""users.token_secret and users.token_generation: emailed links each person can end

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-12

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None

# 128 random bits as 32 hex digits, from each database's strong random source (PostgreSQL's
# gen_random_uuid, 13 and later, draws from pg_strong_random; SQLite's randomblob from its
# OS-seeded generator), so every existing person gets a secret of their own.
RANDOM_SECRET = {
    "postgresql": "replace(gen_random_uuid()::text, '-', '')",
    "sqlite": "lower(hex(randomblob(16)))",
}


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_secret", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("token_generation", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # Links already mailed named the old fingerprint: they stop working, as after a new
    # password (a reset link is good for an hour; a claim link can be sent again).
    random_secret = RANDOM_SECRET[op.get_bind().dialect.name]
    op.execute(f"UPDATE users SET token_secret = {random_secret}")  # noqa: S608 (constant)
    with op.batch_alter_table("users") as batch:
        batch.alter_column("token_secret", existing_type=sa.String(length=32), nullable=False)
        batch.create_check_constraint(
            op.f("ck_users_token_generation_not_negative"), "token_generation >= 0"
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_token_generation_not_negative"), type_="check")
        batch.drop_column("token_generation")
        batch.drop_column("token_secret")
