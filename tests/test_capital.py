"""Amounts in Chinese capital numerals, as written on a contract."""

from __future__ import annotations

import pytest

from fair.core import capital


@pytest.mark.parametrize(
    ("fen", "written"),
    [
        (0, "人民币零元整"),
        (5, "人民币伍分"),
        (50, "人民币伍角整"),
        (100, "人民币壹元整"),
        (1_000, "人民币壹拾元整"),
        (123_405, "人民币壹仟贰佰叁拾肆元零伍分"),
        (123_450, "人民币壹仟贰佰叁拾肆元伍角整"),
        (123_456, "人民币壹仟贰佰叁拾肆元伍角陆分"),
        (1_000_500, "人民币壹万零伍元整"),
        (10_000_000, "人民币壹拾万元整"),
        (100_001_000, "人民币壹佰万零壹拾元整"),
        (101_000_000, "人民币壹佰零壹万元整"),
        (2_000_000_000, "人民币贰仟万元整"),
        (10_000_000_000, "人民币壹亿元整"),
        (10_000_000_100, "人民币壹亿零壹元整"),
        (1_200_000_00, "人民币壹佰贰拾万元整"),
        (156_000, "人民币壹仟伍佰陆拾元整"),
    ],
)
def test_amounts_are_written_as_a_contract_writes_them(fen, written):
    assert capital.money(fen) == written


def test_a_negative_amount_is_never_written():
    with pytest.raises(ValueError):
        capital.money(-1)
