"""All models, importable from one place (Alembic autogenerate reads this)."""

from donations.models.articles import Article
from donations.models.balance import BalanceTransaction
from donations.models.base import Base, UTCDateTime, utcnow
from donations.models.events import EVENT_STATUSES, NoEffect, StripeEvent, WebhookWorker
from donations.models.memberships import (
    MEMBERSHIP_INTERVALS,
    MemberChange,
    MemberCounter,
    Membership,
    RecurringTotal,
)
from donations.models.outbox import OutboxMail
from donations.models.ownership import FOREIGN_KINDS, Adoption, ForeignObject
from donations.models.payments import (
    CheckoutAttempt,
    Donation,
    FailedPayment,
    InvoicePayment,
    PaymentAdjustment,
    PendingDispute,
    Refund,
)
from donations.models.sessions import LoginSession
from donations.models.statuses import (
    CLOSED_DISPUTE_STATUSES,
    MEMBER_STATUSES,
    SUBSCRIPTION_STATUSES,
    TERMINAL_STATUSES,
    DisputeStatus,
    RefundStatus,
    SubscriptionStatus,
)
from donations.models.sync import SyncRun
from donations.models.users import User

__all__ = [
    "CLOSED_DISPUTE_STATUSES",
    "EVENT_STATUSES",
    "FOREIGN_KINDS",
    "MEMBERSHIP_INTERVALS",
    "MEMBER_STATUSES",
    "SUBSCRIPTION_STATUSES",
    "TERMINAL_STATUSES",
    "Adoption",
    "Article",
    "BalanceTransaction",
    "Base",
    "CheckoutAttempt",
    "DisputeStatus",
    "Donation",
    "FailedPayment",
    "ForeignObject",
    "InvoicePayment",
    "LoginSession",
    "MemberChange",
    "MemberCounter",
    "Membership",
    "NoEffect",
    "OutboxMail",
    "PaymentAdjustment",
    "PendingDispute",
    "RecurringTotal",
    "Refund",
    "RefundStatus",
    "StripeEvent",
    "SubscriptionStatus",
    "SyncRun",
    "UTCDateTime",
    "User",
    "WebhookWorker",
    "utcnow",
]
