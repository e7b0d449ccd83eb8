"""What kind of fact a question asks for, when the kind is plain from its words, and whether a
passage holds a fact of that kind.

A retriever finds the story a question is about; it cannot tell whether the story holds the
asked fact. For two kinds the words of the question say what the answer must look like, and a
passage without anything of that shape cannot be the answer: a sum of money ("How much did Mann
pay Evans to settle?" against an article saying the deal is secret) and a score ("What was the
final score?" against a preview of the match). Other kinds (who, when, why, how many) are left
alone: passages almost always hold a name, a date or a number, so a shape test would refuse
nothing, and a wrong one would refuse real answers.
"""

from __future__ import annotations

import re

MONEY = "money"
SCORE = "score"

_MONEY_QUESTION = re.compile(
    r"\bhow much\b(?=.*\b(?:pay|paid|cost|costs|costing|price|priced|fee|fees|earn|earned|earns|worth|spend|"
    r"spent|raise|raised|offer|offered|bid|compensation|salary|salaries|wage|wages|fine|fined|sell|sold|"
    r"buy|bought|charge|charged|charges|damages|settle|settlement|money|value|valued|go for|went for|"
    r"ticket|tickets)\b)"
    r"|\bwhat (?:price|fee|fine|salary|sum|transfer fee|settlement)\b"
    r"|\bhow much money\b",
    re.IGNORECASE | re.DOTALL,
)
_SCORE_QUESTION = re.compile(r"\b(?:what|what's|what was)\b[^?]*\bscore\b(?! goals?\b)", re.IGNORECASE)

_CURRENCY_WORD = r"(?:euros?|dollars?|pounds?|pence|p|cents?|yen|yuan|rupees?|francs?|roubles?|rubles?|krona|kronor|won|rand)"
_MONEY = re.compile(
    r"[£$€¥]\s?\d"
    r"|\d(?:[\d,.]*\d)?\s?(?:m|bn|k|million|billion|thousand)?\s?" + _CURRENCY_WORD + r"\b"
    r"|\b(?:US|Canadian|Australian|Hong Kong|HK|NZ)\s?\$",
    re.IGNORECASE,
)
_SCORE = re.compile(r"(?<![\d.,/])\d{1,3}\s?[-–]\s?\d{1,3}(?![\d.,/%])")


def asked_kind(question: str) -> str | None:
    """MONEY or SCORE when the question plainly asks for one, else None."""
    if _SCORE_QUESTION.search(question):
        return SCORE
    if _MONEY_QUESTION.search(question):
        return MONEY
    return None


def holds_kind(text: str, kind: str) -> bool:
    """Whether `text` holds a fact of that kind: a sum of money, or a score such as 3-0."""
    pattern = _MONEY if kind == MONEY else _SCORE
    return bool(pattern.search(text))
