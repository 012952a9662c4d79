"""Mutation check (`make mutants`): each known bug, put back alone, must fail a test.

Each mutation below is a bug that once survived the whole suite (issue 18). The script applies
one at a time (a text edit of one file), runs the tests meant to catch it, puts the file back
and prints whether the mutant was killed, and by which test. Exit status 1 if any survived.
tests/test_mutants.py checks, in every normal run, that each `old` text still occurs exactly
once, so a change to the code cannot quietly turn a mutation into a no-op.

    .venv/bin/python tests/mutants.py            # all of them
    .venv/bin/python tests/mutants.py 3 6        # some, by number
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    """One bug: in `path`, `old` (exactly once) becomes `new`; `tests` must catch it."""

    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    bug: str


MUTATIONS = [
    Mutation(
        "donations/accounts/login_read.py",
        '        LoginSession.expires_at > bindparam("now", type_=LoginSession.expires_at.type),\n',
        "",
        ("tests/hardening/test_sessions.py",),
        "an expired login session still logs its cookie in",
    ),
    Mutation(
        "donations/support/origin.py",
        "    if (sent.scheme, sent.netloc) == (site.scheme, site.netloc):\n",
        "    if sent.netloc == site.netloc:\n",
        ("tests/hardening/test_origin.py",),
        "an http:// origin is taken for an https:// site",
    ),
    Mutation(
        "donations/core/cache.py",
        "        self._local[key] = (read_at + self.seconds, value)\n",
        "        self._local[key] = (now + self.seconds, value)\n",
        ("tests/test_cache.py",),
        "a value read from Redis is kept twice the documented bound",
    ),
    Mutation(
        "donations/accounts/tokens.py",
        # The double-use guard: since a link is spent by one conditional write (SQLite has
        # no row locks), that write's generation test is what `or supporter.has_login` was.
        ".where(User.id == user.id, User.token_generation == user.token_generation)",
        ".where(User.id == user.id)",
        ("tests/test_claim_links.py", "tests/test_magic_link.py"),
        "a claim or sign-in link that a racing request spent works again",
    ),
    Mutation(
        "donations/facts/envelope.py",
        "            _storable(key, depth + 1)\n",
        "",
        ("tests/hardening/test_webhook_envelope.py",),
        "a NUL or half a surrogate in a key of a signed event is stored",
    ),
    Mutation(
        "donations/models/statuses.py",
        "    if held_closed and not told_closed and not told_appeal:\n",
        "    if held_closed and not told_closed:\n",
        ("tests/payments/test_disputes.py",),
        "an appeal no longer reopens a lost dispute",
    ),
    Mutation(
        "donations/facts/facts.py",
        '        return self.payment_status in ("paid", "no_payment_required")\n',
        '        return self.payment_status == "paid"\n',
        ("tests/payments/test_no_payment_required.py",),
        "a Checkout with nothing to pay (a trial) is never complete",
    ),
    Mutation(
        "donations/core/http_cache.py",
        '            if lower == "set-cookie":\n                return None\n',
        "",
        ("tests/test_page_cache.py",),
        "an answer with a cookie set after the private guard is kept and given to everyone",
    ),
    Mutation(
        "donations/membership/batch.py",
        "        user = claimed_by(named, customer, by_customer.get)\n",
        "        user = named if named is not None and customer in by_customer else None\n",
        ("tests/payments/test_batch_apply.py",),
        "the batch path links customers by another rule than one by one (issue 20, must hold 5)",
    ),
]


def _run_tests(tests: tuple[str, ...]) -> tuple[int, list[str]]:
    """pytest on `tests`: its exit status and the tests that failed."""
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-rf", "-p", "no:randomly"]
    command += ["-p", "no:cacheprovider", "-n", "0", *tests]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    failed = re.findall(r"^FAILED (.+?)(?: - .*)?$", result.stdout, re.MULTILINE)
    return result.returncode, failed


def check(number: int, mutation: Mutation) -> bool:
    """Apply one mutation, run its tests, restore the file; True when a test failed."""
    path = ROOT / mutation.path
    original = path.read_text()
    if original.count(mutation.old) != 1:
        print(f"{number}. {mutation.path}: the text to mutate is not there exactly once: STALE")
        return False
    try:
        path.write_text(original.replace(mutation.old, mutation.new))
        status, failed = _run_tests(mutation.tests)
    finally:
        path.write_text(original)
    killed = status == 1 and bool(failed)
    verdict = f"killed by {', '.join(failed)}" if killed else f"SURVIVED (pytest exit {status})"
    print(f"{number}. {mutation.path}: {mutation.bug}: {verdict}", flush=True)
    return killed


def main(argv: list[str]) -> int:
    """Check the mutations named by number (all by default); 1 if any survived."""
    chosen = [int(a) for a in argv] or list(range(1, len(MUTATIONS) + 1))
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    results = [check(n, MUTATIONS[n - 1]) for n in chosen]
    print(f"{sum(results)} of {len(results)} mutants killed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
