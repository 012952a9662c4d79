"""The mutation list of `make mutants` (tests/mutants.py) still fits the code it mutates."""

from __future__ import annotations

import pytest

from tests.mutants import MUTATIONS, ROOT, Mutation


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.path for m in MUTATIONS])
def test_each_mutation_still_finds_its_text_exactly_once(mutation: Mutation):
    source = (ROOT / mutation.path).read_text()
    assert source.count(mutation.old) == 1, f"{mutation.path}: update tests/mutants.py"
    assert mutation.new != mutation.old
    for test in mutation.tests:
        assert (ROOT / test).is_file(), test
