"""The kinds the suite is cut into (``tests/conftest.py``, ``KINDS``) name modules and tests that exist: a renamed
test would otherwise drop out of its kind without a word, and ``scripts/test --fast`` would run it again."""

from __future__ import annotations

import importlib

from tests.conftest import KINDS


def test_every_kind_names_a_module_or_a_test_that_exists():
    for kind, where in KINDS.items():
        for name in where:
            module, _, test = name.partition("::")
            found = importlib.import_module(f"tests.{module}")
            assert not test or callable(getattr(found, test, None)), f"{kind}: {name} is no test"
