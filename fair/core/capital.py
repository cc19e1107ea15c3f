"""Amounts in Chinese capital numerals (大写金额), as a contract or an order confirmation writes them.

The financial form, which cannot be altered by adding a stroke: 壹 贰 叁 … 玖,
拾 佰 仟 within a group of four digits, 万 and 亿 between groups; one 零
where zeros fall between digits; 元, 角 and 分, and 整 when nothing smaller
than a jiao follows.  ¥1,234.05 is 人民币壹仟贰佰叁拾肆元零伍分.
"""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
WITHIN = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")


def _group(number: int) -> str:
    """Up to four digits, without leading zeros."""
    shown, zero = "", False
    for place in (3, 2, 1, 0):
        digit = number // 10**place % 10
        if digit == 0:
            zero = zero or bool(shown)
            continue
        if zero:
            shown += "零"
            zero = False
        shown += DIGITS[digit] + WITHIN[place]
    return shown


def integer(number: int) -> str:
    if number == 0:
        return DIGITS[0]
    groups = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    shown, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(shown)
            continue
        if shown and (zero or group < 1000):
            shown += "零"
        shown += _group(group) + GROUPS[index]
        zero = False
    return shown


def money(fen: int) -> str:
    """``fen`` as 人民币…元…角…分 (or …元整)."""
    if fen < 0:
        raise ValueError("an amount to write out is never negative")
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    shown = "人民币" + (integer(yuan) + "元" if yuan else "")
    if jiao == 0 and cents == 0:
        return shown + ("" if yuan else "零元") + "整"
    if jiao:
        shown += DIGITS[jiao] + "角"
    elif yuan:
        shown += "零"
    return shown + (DIGITS[cents] + "分" if cents else "整")
