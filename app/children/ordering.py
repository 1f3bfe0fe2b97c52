"""The order of classes: by grade, then class number (一(1), 一(2), 二(1)…), not by character code."""
from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = re.compile(r"\d+|[零〇一二两三四五六七八九十]+")


def _value(token: str) -> int:
    """An arabic or Chinese number up to 99 (十二 = 12, 二十 = 20)."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _sep, ones = token.partition("十")
        return (_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    return int("".join(str(_DIGITS[c]) for c in token))


def class_key(name: str | None) -> tuple:
    """Sort key of a class name: its numbers in order (grade, class), then the name; unnamed classes last."""
    if not name:
        return (1, (), "")
    return (0, tuple(_value(t) for t in _NUMBER.findall(name)), name)


def by_class(children) -> list:
    """Children in class order, then by name."""
    return sorted(children, key=lambda c: (class_key(c.class_name), c.name))
