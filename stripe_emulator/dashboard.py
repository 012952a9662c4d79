"""What the Dashboard makes without Checkout: a subscription a person creates for a customer.

Dashboard → Customers → "Create subscription" calls `POST /v1/subscriptions` for the customer,
charging the card on file, with the default `payment_behavior=allow_incomplete`: Stripe makes
the subscription `incomplete` only "if the first invoice cannot be paid" (stripe/openapi,
`SubscriptionCreateParams.payment_behavior`). A first invoice paid at once leaves it `active`
from its creation, so `customer.subscription.created` already says `active` and no
`customer.subscription.updated` follows (the incomplete -> active update is Checkout's, which
uses `default_incomplete`). Its metadata is what the person typed: none unless given, and
never another app's tag. The first invoice goes as every invoice does (invoicing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import billing_objects as b
from . import charging, invoicing
from . import objects as o
from .cards import check_card
from .checkout import INTERVALS
from .errors import EmulatorError
from .money import format_amount, minimum

if TYPE_CHECKING:
    from .core import Emulator


def create_subscription(
    emu: Emulator,
    customer_id: str,
    *,
    amount: int,
    currency: str,
    interval: str,
    card_number: str,
    interval_count: int = 1,
    product_name: str = "Subscription",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create and pay a subscription for an existing customer, as the Dashboard does."""
    currency = currency.lower()
    if interval not in INTERVALS or interval_count < 1:
        raise EmulatorError(f"Invalid interval: {interval_count} {interval}")
    least = minimum(currency, emu.settlement_currency)
    if amount < least:  # the same floor as any charge (docs.stripe.com/currencies)
        raise EmulatorError(f"Amount must be at least {format_amount(least, currency)} {currency}")
    card = check_card(card_number)  # a declined card raises: nothing is created
    with emu.transaction() as tx:
        cust = tx.get(customer_id, "customer")
        if cust is None:
            raise EmulatorError(f"No such customer: {customer_id}")
        product = tx.put(o.product(product_name))
        recurring = {"interval": interval, "interval_count": interval_count}
        price = tx.put(o.price(product["id"], currency, amount, recurring))
        start = o.now()
        end = o.add_interval(start, interval, interval_count)
        sub = b.subscription(
            customer_id, price, 1, dict(metadata or {}), start, end, o.new_id("pm_")
        )
        charging.save_card(sub, card, cust.get("name"))
        inv = invoicing.create(emu, tx, sub, cust, "subscription_create", (start, start))
        sub["latest_invoice"] = inv["id"]
        invoicing.finalize(emu, tx, inv, cust)
        invoicing.attempt(emu, tx, inv, sub, cust)
        sub["status"] = "active"
        tx.put(sub)
        emu.emit(tx, "customer.subscription.created", sub)
    return o.public(sub)
