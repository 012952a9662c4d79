"""Row factories: build valid rows with sensible defaults, override what a test cares about.

Also the few steps many tests take through the real forms: logging in, starting a Checkout.
"""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from donations.accounts.passwords import hash_password
from donations.articles.services import ArticleData, save_article
from donations.extensions import db
from donations.models import Article, Membership, User

_counter = itertools.count(1)

# What make_user gives every account unless a test picks another password.
DEFAULT_PASSWORD = "a perfectly fine passphrase"


def make_article(**fields: Any) -> Article:
    """Save an article through the real service (so its HTML is rendered and sanitised)."""
    n = next(_counter)
    data = {
        "slug": f"story-{n}",
        "title": f"Story number {n}",
        "summary": f"Summary of story {n}.",
        "author": "Ada Reporter",
        "body_markdown": f"## Heading {n}\n\nA paragraph of story {n}.\n",
        "published": True,
        "published_at": datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=n),
    }
    data.update(fields)
    article, _ = save_article(ArticleData(**data))
    db.session.commit()
    return article


def make_user(
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_staff: bool = False,
    **fields: Any,
) -> User:
    """Save a user with a real scrypt hash (no password rules: tests choose freely)."""
    n = next(_counter)
    user = User(
        email=(email or f"reader{n}@example.org").strip().lower(),
        password_hash=hash_password(password),
        is_staff=is_staff,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_supporter(billing_email: str, **fields: Any) -> User:
    """Save a supporter we know only from Stripe (pay first): no login, a customer id."""
    n = next(_counter)
    user = User(billing_email=billing_email, stripe_customer_id=f"cus_factory_{n}", **fields)
    db.session.add(user)
    db.session.commit()
    return user


def make_membership(user: User, **fields: Any) -> Membership:
    """An active $8 monthly membership of `user`, committed; keyword arguments override."""
    values: dict[str, Any] = {
        "stripe_subscription_id": "sub_x",
        "status": "active",
        "interval": "month",
        "amount": 800,
        "currency": "usd",
        **fields,
    }
    membership = Membership(user_id=user.id, **values)
    db.session.add(membership)
    db.session.commit()
    return membership


def login(client: Any, user: User | str, password: str = DEFAULT_PASSWORD) -> Any:
    """Log a test client in through the real /login form (CSRF on or off); returns the response."""
    email = user if isinstance(user, str) else user.email
    data = {"email": email, "password": password}
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def start_checkout(client: Any, **form: str) -> str:
    """Start a Checkout through the real /support/checkout form; return the session id."""
    data = {
        "interval": "once",
        "amount": "10",
        "currency": "usd",
        "attempt": "attempt-token-0123456789",
    }
    data.update(form)
    response = client.post("/support/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]


GOOD_CARD = "4242424242424242"


def pay_membership(
    client: Any,
    emulator: Any,
    *,
    amount: str = "8",
    email: str | None = None,
    deliver: bool = True,
    **form: str,
) -> str:
    """Become a monthly member through the real form and the emulator's Checkout.

    Pays with a good card (as `email` when given, for a reader without an account), then
    delivers the events unless `deliver` is False; returns the Checkout Session's id.
    """
    session_id = start_checkout(client, interval="month", amount=amount, **form)
    emulator.pay_checkout(session_id, GOOD_CARD, email=email)
    if deliver:
        emulator.deliver_pending()
    return session_id


# Seeds of the chaotic delivery mode (shuffled, duplicated, concurrent: design §7) that the
# flow and browser tests run under, each test once per seed.
CHAOS_SEEDS = (11, 29, 47)


def chaos(seed: int) -> dict[str, Any]:
    """Settings for the emulator's chaotic delivery mode with a seed."""
    return {"STRIPE_EMULATOR_DELIVERY": "chaos", "STRIPE_EMULATOR_SEED": seed}


def run_queue_workers(app, *, workers: int = 2, batch: int, timeout: float) -> list[int]:
    """Run `flask webhooks work --once` in threads at once; how many events each applied."""
    from donations.payments.queue import work

    done: list[int] = []

    def worker() -> None:
        with app.app_context():
            done.append(
                work(
                    livemode=not app.config["STRIPE_TEST_MODE"],
                    installation=app.config["INSTALLATION_TAG"],
                    stop=lambda: False,
                    once=True,
                    batch=batch,
                )
            )
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return done
