"""Which questions ask for a sum of money or a score, and which passages hold one."""

from __future__ import annotations

import pytest

from bot.answer_types import MONEY, SCORE, asked_kind, holds_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much did Google pay to buy YouTube?", MONEY),
        ("How much money did the Tate raise?", MONEY),
        ("how much does a Wippit subscription cost?", MONEY),
        ("What price did Russia agree to pay Turkmenistan for its gas?", MONEY),
        ("How much did Krivorizhstal go for?", MONEY),
        ("What was the final score in the Davis Cup tie?", SCORE),
        ("what was the half-time score when Wales beat Italy?", SCORE),
        ("How much did UK house prices drop in December?", None),  # a percentage, not a sum
        ("How many jobs is ABN Amro cutting?", None),
        ("Who scored Real Madrid's goals?", None),
        ("What did Pompeo say?", None),
        ("How many goals did he score this season?", None),
    ],
)
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("text", "kind", "holds"),
    [
        ("It was sold in June 2004 for $800m (£424m).", MONEY, True),
        ("Arcelor shed 2.1% to 17.58 euros in Paris.", MONEY, True),
        ("Jugnot made 5.45m Euros last year.", MONEY, True),
        ("Shares rose 20p to 310p.", MONEY, True),
        ("The terms of the deal have remained secret.", MONEY, False),
        ("Lufthansa had to cancel 77 flights, affecting 5,000 passengers.", MONEY, False),
        ("Nadal won 6-7 6-4 6-4 in a rain-affected match.", SCORE, True),
        ("Wales took a 19-5 half-time advantage.", SCORE, True),
        ("The 2004-05 season starts in August; the tie is on 4 March.", SCORE, False),
        ("Britain face Israel in Tel Aviv next month.", SCORE, False),
    ],
)
def test_holds_kind(text, kind, holds):
    assert holds_kind(text, kind) is holds
