"""Who said what: quoted statements in a document and their speakers, for "what did X say?".

News quotes follow a few fixed shapes: `"...," X said`, `"...," said X`, `X said: "..."`,
`X said the plan "will fail"`, and `"...," he added` where the pronoun points back to the last
named speaker (often a paragraph or two earlier). Quotes are found by pairing quotation marks
(curly or straight, mixed as real copy mixes them; single quotes inside double ones stay part of
the quote), and a quote without its own attribution continues the previous speaker in the same or
next paragraph. Speakers are name-like runs of capitalised words: a statistical NER model was
considered (spaCy's models are not shipped on PyPI by their authors) and these rules are what
the tests pin.

Words without quotation marks count too where a question asks what someone said: reported speech
with the person as the subject of a speech or view verb (`view_subjects`, `words_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

OPEN = "“«"
CLOSE = "”»"
STRAIGHT = '"'
SPEECH_VERBS = frozenset(
    "said says say saying added adds adding told tells telling stated explained explains warned warns "
    "argued argues insisted insists claimed claims noted notes continued asked asks replied replies wrote "
    "writes commented declared announced admitted admits urged urges stressed stresses suggested suggests "
    "believes believed acknowledged conceded predicted maintained observed remarked responded recalled "
    "concluded joked confirmed denied vowed pledged promised".split()
)
PRONOUNS = frozenset({"he", "she"})
# Capitalised words that start sentences or name roles, not people.
NOT_NAMES = frozenset(
    "the a an it this that these those but and or in on at for with from to by as if when while "
    "however meanwhile also then there here his her their its our my your mr mrs ms dr sir lord "
    "lady president senator secretary minister chancellor prime chief executive spokesman "
    "spokeswoman spokesperson state officials official reuters".split()
)
TITLES = frozenset("mr mrs ms dr sir lord lady".split())
ROLES = frozenset("president senator secretary minister chancellor spokesman spokeswoman chief executive".split())
PREPOSITIONS = frozenset("of for at from in on with to into about against over under".split())
# Lowercase words that may sit between a quote and its speech verb (`," the firm's boss also said`).
LINKING = frozenset("the a an of also has had have later then reportedly 's who company's firm's".split())
_TOKEN = re.compile(r"[A-Za-z](?:[\w'’-]|\.(?=\w))*|[,:;.!?]")
WINDOW = 120  # characters around a quote searched for its attribution
WORDS_CONTEXT = 300  # characters of the paragraph kept around a person's words (README, Answer quality)


@dataclass(frozen=True)
class Quote:
    """A quoted statement: `start`/`end` include the quotation marks; `speaker` may be None."""

    start: int
    end: int
    speaker: str | None
    paragraph: int


def _paragraph_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\n\s*\n|\n", text):
        starts.append(m.end())
    return starts


def _is_opening(text: str, i: int) -> bool:
    ch = text[i]
    if ch in OPEN:
        return True
    if ch in CLOSE:
        return False
    prev = text[i - 1] if i > 0 else " "
    return prev.isspace() or prev in "([{—–-:/"


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of double-quoted text, marks included; an unclosed quote runs to its paragraph's end."""
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for i, ch in enumerate(text):
        if ch == "\n" and open_at is not None and text[i + 1 : i + 2] in ("\n", ""):
            spans.append((open_at, i))
            open_at = None
        elif ch in OPEN or ch in CLOSE or ch == STRAIGHT:
            if open_at is None:
                if _is_opening(text, i):
                    open_at = i
            elif not _is_opening(text, i) or ch in CLOSE:
                spans.append((open_at, i + 1))
                open_at = None
            elif ch in OPEN and text[open_at] == STRAIGHT:
                open_at = i  # a stray straight mark before a real opening one
    if open_at is not None:
        spans.append((open_at, len(text)))
    return [(s, e) for s, e in spans if e - s > 3]


def _names(tokens: list[str]) -> list[tuple[int, list[str], bool]]:
    """Runs of capitalised words as (index of first token, words, led by a title such as "Ms")."""
    runs: list[tuple[int, list[str], bool]] = []
    current: list[str] = []
    titled = False
    for i, tok in enumerate([*tokens, "."]):
        word = tok.rstrip(".’'")
        low = word.lower()
        capital = word[:1].isupper() and not (word.isupper() and len(word) <= 4)
        if capital and low not in NOT_NAMES:
            if not current:
                prev = tokens[i - 1].lower().rstrip(".") if i > 0 else ""
                titled = prev in TITLES or prev in ROLES
            current.append(word)
            continue
        if current:
            first = i - len(current)
            before = [t.lower() for t in tokens[max(0, first - 2) : first]]
            in_phrase = bool(before) and (
                before[-1] in PREPOSITIONS or (before[-1] == "the" and len(before) > 1 and before[0] in PREPOSITIONS)
            )
            if not in_phrase:
                runs.append((first, current, titled))
        current = []
    return runs


def _pick(runs: list[tuple[int, list[str], bool]], nearest_last: bool) -> str | None:
    """The speaker among name runs: a full name or titled name nearest the verb, else any name."""
    ordered = list(reversed(runs)) if nearest_last else runs
    for _, words, titled in ordered:
        if len(words) >= 2 or titled:
            return " ".join(words)
    return " ".join(ordered[0][1]) if ordered else None


def _verb_at(tokens: list[str]) -> int | None:
    for i, tok in enumerate(tokens):
        if tok.lower() in SPEECH_VERBS:
            return i
        if tok.lower() == "according" and i + 1 < len(tokens) and tokens[i + 1].lower() == "to":
            return i + 1
    return None


def _speaker_after(tail: str) -> str | None:
    """`," Pompeo said` / `," said Mr Brown` / `," he added`: the clause right after a quote."""
    tokens = _TOKEN.findall(tail)
    cut = next(
        (i for i, t in enumerate(tokens) if t in ".!?;" and not (i and tokens[i - 1].lower() in TITLES)), len(tokens)
    )
    tokens = tokens[: min(cut, 14)]
    v = _verb_at(tokens)
    if v is None:
        return None
    before, after = tokens[:v], tokens[v + 1 :]
    if tokens and tokens[0] != "," and (lead := _leading_subject(tokens, v)):
        return lead  # `," Vincent Koen, a senior economist with the OECD, told the BBC`
    if any(t[:1].islower() and t.lower() not in LINKING and t.lower() not in PRONOUNS for t in before):
        return None  # `", while the Tories said it` is another clause, not an attribution
    if before and before[-1].lower() in PRONOUNS:
        return before[-1].lower()
    name = _pick(_names(before), nearest_last=True)
    if name:
        return name
    if after and after[0].lower() in PRONOUNS:
        return after[0].lower()
    return _pick(_names(after[:8]), nearest_last=False)


def _speaker_before(head: str) -> str | None:
    """`Pompeo said: "...` / `X also said the plan "...`: the clause leading into a quote."""
    trimmed = head.rstrip()
    if trimmed.endswith((":", ",")):  # `..., saying:` on the line before a block quote
        head = trimmed
    clause = re.split(r"[.!?][\"”’]?\s|\n", head)[-1]
    tokens = _TOKEN.findall(clause)
    v = None
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].lower() in SPEECH_VERBS:
            v = i
            break
    if v is None:
        return None
    before = tokens[:v]
    if before and before[-1].lower() in PRONOUNS:
        return before[-1].lower()
    return _pick(_names(before), nearest_last=True) or _pick(_names(tokens[v + 1 :]), nearest_last=False)


def _main_person(text: str) -> str | None:
    """Who a pronoun most likely means when no one was quoted yet: the most mentioned surname."""
    counts: dict[str, int] = {}
    for _, words, _ in _names(_TOKEN.findall(text)):
        if len(words) <= 3:
            counts[words[-1]] = counts.get(words[-1], 0) + 1
    return max(counts, key=lambda w: counts[w]) if counts else None


@lru_cache(maxsize=4096)
def find_quotes(text: str) -> tuple[Quote, ...]:
    """Every quote in `text` with its speaker resolved where the text says who it is."""
    starts = _paragraph_starts(text)
    out: list[Quote] = []
    last_named: tuple[str, int] | None = None  # (speaker, paragraph)
    prev_end = 0
    for s, e in quote_spans(text):
        para = sum(1 for p in starts if p <= s) - 1
        tail = text[e : e + WINDOW].split("\n", 1)[0]
        head = text[max(prev_end, s - 3 * WINDOW) : s]
        prev_end = e
        inner = text[s:e].rstrip(CLOSE + STRAIGHT).rstrip()[-1:]
        forward = inner in ",?!—–-" or tail.lstrip()[:1] == ","
        speaker = (_speaker_after(tail) if forward else None) or _speaker_before(head)
        if speaker is None and not forward:
            speaker = _speaker_after(tail) if tail.lstrip()[:1].islower() else None
        if speaker in PRONOUNS:  # "he added": the last named speaker, up to two paragraphs back
            if last_named and para - last_named[1] <= 2:
                speaker = last_named[0]
            else:  # else who said something earlier in this paragraph ("Mr X said ...") or the main person
                speaker = _reported_speaker(text[starts[para] : s]) or _main_person(text[:s])
        elif speaker is None:  # an unattributed quote continues the previous speaker
            speaker = last_named[0] if last_named and para - last_named[1] <= 1 else None
        if speaker is not None:
            last_named = (speaker, para)
        out.append(Quote(s, e, speaker, para))
    return tuple(out)


_SAY_QUESTION = re.compile(
    r"\b(?:what|how|why)\b.*?\b(?:did|does|do|has|have|had|is|was)\s+(?P<a>.+?)\s+"
    r"(?:say|said|saying|says|tell|told|think|thinks|argue|argued|claim|claimed|warn|warned|state|stated)\b"
    r"|\b(?:quotes?|statements?|comments?|remarks?|words)\s+(?:from|by|of)\s+"
    r"(?P<b>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)"
    r"|(?P<c>[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*)['’]s?\s+(?:quotes?|statements?|comments?|remarks?|words)\b",
    re.IGNORECASE | re.DOTALL,
)


# A word every form of _SAY_QUESTION needs: most questions fail this cheap test (~1 us) before the
# full pattern (~60 us, lazy scans) runs.
_SAY_WORD = re.compile(
    r"\b(?:say|said|saying|says|tell|told|think|thinks|argue|argued|claim|claimed|warn|warned|state|stated"
    r"|quotes?|statements?|comments?|remarks?|words)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def asked_phrase(question: str) -> str | None:
    """Who a "what did X say (about Y)?" question asks about, as worded: "the Downing Street
    spokesman", "Mansfield chairman Keith Haslam"; else None."""
    if not _SAY_WORD.search(question):
        return None
    m = _SAY_QUESTION.search(question)
    if not m:
        return None
    return (m.group("a") or m.group("b") or m.group("c") or "").strip(" ?,.") or None


@lru_cache(maxsize=1024)
def asked_speaker(question: str) -> str | None:
    """The person a "what did X say (about Y)?" question asks about, without titles and roles."""
    name = asked_phrase(question)
    if name is None:
        return None
    words = [w for w in re.findall(r"[\w'’.-]+", name) if w.lower() not in NOT_NAMES or w.lower() in TITLES]
    words = [w for w in words if w.lower() not in TITLES and w.lower() not in {"you", "i", "we", "they", "it"}]
    return " ".join(words) or None


def asks_only_speaker(question: str) -> bool:
    """ "What did X say?" with no topic: X's quotes are the answer, whatever their similarity."""
    speaker = asked_speaker(question)
    if speaker is None:
        return False
    rest = question[question.lower().rfind(speaker.split()[-1].lower()) + len(speaker.split()[-1]) :]
    return not re.search(r"\b(?:about|on|regarding|over|of|to|concerning|when|after|before|in|at)\b", rest, re.I)


def _key(word: str) -> str:
    return word.lower().rstrip(".’'").removesuffix("’s").removesuffix("'s")


def same_person(asked: str, speaker: str | None) -> bool:
    """ "Mike Pompeo" / "Pompeo" / "Mr Pompeo" are one person: the surname (last word) decides."""
    if not speaker:
        return False
    asked_words = [_key(w) for w in asked.split()]
    spoken = {_key(w) for w in speaker.split()}
    return bool(asked_words) and asked_words[-1] in spoken


def quotes_by(text: str, asked: str, start: int = 0, end: int | None = None) -> list[Quote]:
    """Quotes by `asked` that overlap `text[start:end]`, an organisation's by its people included."""
    end = len(text) if end is None else end
    quotes = [q for q in find_quotes(text) if q.start < end and q.end > start]
    if not quotes:
        return []
    surname = _surname(asked)
    return [q for q in quotes if same_person(asked, q.speaker) or _attributed_through(text, q, surname)]


@lru_cache(maxsize=1024)
def _surname(asked: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(_key(asked.split()[-1]))}\b", re.IGNORECASE)


# Verbs that put someone's words or views in a sentence without quotation marks ("Mr Brown said the
# plan would fail", "Winer thinks its power lies in..."); "called" and the like are left out: they
# are as often something done to a person ("Petrov was called up") as something said.
VIEW_VERBS = SPEECH_VERBS | frozenset("think thinks thought feels felt hopes hoped expects expected".split())
_PASSIVE = frozenset("was were be been being is are".split())
_INTENT = frozenset(
    "believe believes believed think thinks thought expect expects expected hope hopes hoped feel feels felt".split()
)
# Words that may stand between a subject and its verb: "Brown also said", "Brown has since argued".
_BETWEEN = frozenset("also has had have later then reportedly previously again since once still".split())
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"”’']?|$)")


def _name_back(tokens: list[str], j: int) -> str | None:
    """The run of capitalised words ending at token `j` ("Gordon Brown", "Mr Brown"), if any."""
    words: list[str] = []
    while j >= 0 and tokens[j][:1].isupper() and tokens[j].lower() not in NOT_NAMES - TITLES:
        words.insert(0, tokens[j])
        j -= 1
    return " ".join(words) or None


def _name_ahead(tokens: list[str], k: int) -> str | None:
    words: list[str] = []
    while k < len(tokens) and tokens[k][:1].isupper():
        words.append(tokens[k])
        k += 1
    return " ".join(words) or None


def view_subjects(sentence: str) -> list[str]:
    """Who a sentence says said or thought something: the name (or he/she) right before a speech or
    view verb, right after it ("said Mr Brown"), or after "according to". Passives are skipped."""
    tokens = _TOKEN.findall(sentence)
    low = [t.lower() for t in tokens]
    out: list[str] = []
    for i, word in enumerate(low):
        if word == "according" and low[i + 1 : i + 2] == ["to"]:
            k = i + 2 + (low[i + 2 : i + 3] in (["the"],))
            name = _name_ahead(tokens, k)
            out += [name] if name else []
            continue
        if word not in VIEW_VERBS or (i and low[i - 1] in _PASSIVE):
            continue
        if word in _INTENT and low[i + 1 : i + 2] == ["to"]:
            continue  # "believed to be a coin", "hopes to block his call-up": no one's words
        j = i - 1
        while j >= 0 and low[j] in _BETWEEN:
            j -= 1
        if j >= 0 and low[j] in PRONOUNS:
            out.append(low[j])
        elif j >= 0 and (name := _name_back(tokens, j)):
            out.append(name)
        elif name := _name_ahead(tokens, i + 1):
            out.append(name)
        elif name := _leading_subject(tokens, i):
            out.append(name)
    return out


_OPENERS = frozenset("but and however meanwhile yet so the".split())


def _leading_subject(tokens: list[str], verb: int) -> str | None:
    """The name that opens a sentence and is the subject of a later verb: "Hans Reckers, a board
    member of the Bundesbank, said...", "The Reporters Without Borders group said..."."""
    k = 0
    while k < verb and (tokens[k].lower() in _OPENERS or tokens[k] == ","):
        k += 1
    name = _name_ahead(tokens, k)
    if not name:
        return None
    after = k + len(name.split())
    if after < verb and tokens[after] == ",":  # an apposition up to the verb
        return name
    between = tokens[after:verb]
    if len(between) <= 2 and all(t[:1].islower() and t.lower() not in VIEW_VERBS for t in between):
        return name  # "the ... group said", "Microsoft chief said"
    return None


def _reported_speaker(paragraph: str) -> str | None:
    """The last person named as saying something, without quotation marks, in `paragraph`."""
    named = [w for sentence in _SENTENCE.findall(paragraph) for w in view_subjects(sentence) if w not in PRONOUNS]
    return named[-1] if named else None


def _paragraph_around(text: str, start: int, end: int) -> tuple[int, int]:
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return left, len(text) if right < 0 else right


def words_of(text: str, asked: str, start: int = 0, end: int | None = None) -> list[str]:
    """What `asked` is given saying in `text[start:end]`, each with up to `WORDS_CONTEXT` characters
    of its paragraph around it: a quote attributed to them, or a sentence of reported speech with
    them as the subject ("Mr Brown said the plan would fail", "according to Brown", or "He thinks..."
    right after a sentence naming them). Context, not the whole paragraph: a BBC paragraph can hold
    several speakers on several subjects."""
    end = len(text) if end is None else end
    surname = _surname(asked)
    found = [(q.start, q.end) for q in quotes_by(text, asked, start, end)]
    left, _ = _paragraph_around(text, start, start)
    for m in re.finditer(r"[^\n]+", text[left:end]):
        named_last = False  # the previous sentence of this paragraph names the asked person
        for sm in _SENTENCE.finditer(m.group()):
            sentence = sm.group()
            if any(who in PRONOUNS and named_last or same_person(asked, who) for who in view_subjects(sentence)):
                found.append((left + m.start() + sm.start(), left + m.start() + sm.end()))
            subjects_pronoun = sentence.lstrip(' "“').startswith(("He ", "She "))
            named_last = bool(surname.search(sentence)) or (named_last and subjects_pronoun)
    merged: list[list[int]] = []  # a quote and the sentence reporting it are one piece of words
    for a, b in sorted(found):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        para_a, para_b = _paragraph_around(text, a, b)
        out.append(text[max(para_a, a - WORDS_CONTEXT) : min(para_b, b + WORDS_CONTEXT)])
    return out


def _attributed_through(text: str, quote: Quote, surname: re.Pattern[str]) -> bool:
    """An organisation speaks through its people: `," said Graham Cluley, senior technology
    consultant for Sophos.` gives Sophos's words (the name in the attribution, up to the sentence end)."""
    if not quote.speaker or not surname.search(text, quote.end, quote.end + WINDOW):
        return False
    tail = re.split(r"(?<=[.!?])\s|\n", text[quote.end : quote.end + WINDOW], maxsplit=1)[0]
    if _verb_at(_TOKEN.findall(tail)) is None:
        return False
    # the speaker's apposition names the organisation: ", consultant for Sophos", ", head of research at Gartner"
    return re.search(rf",[^,]*\b(?:for|at|from|with)\s+(?:the\s+)?{surname.pattern}", tail, re.IGNORECASE) is not None


def is_named_person(asked: str) -> bool:
    """ "Rinat Akhmetov", "Microsoft": a name. "Sal Oppenheim analyst", "BT's futurologist": a role,
    whose words a passage gives under many descriptions, so no test on them is fair."""
    return all(any(c.isupper() for c in w) for w in asked.split())  # "eBay" is a name too


def speaker_name(asked: str) -> str | None:
    """The name in an asked speaker phrase (`asked_phrase`): all of "Rinat Akhmetov", "Keith Haslam"
    of "Mansfield chairman Keith Haslam"; None for a role ("BT's futurologist", "the Downing Street
    spokesman") or an "of"/"from" phrase ("the director of Godzilla", "Pan Yue from SEPA": the name
    there may not be the speaker)."""
    words = [w for w in asked.split() if w.lower() not in ("the", "a", "an")]
    if words and words[-1].lower().rstrip(".’'") in NOT_NAMES:
        return None  # "the Downing Street spokesman", "the US President": a role
    if is_named_person(" ".join(words)):
        return " ".join(words) or None
    run: list[str] = []
    while words and any(c.isupper() for c in words[-1]):
        run.insert(0, words.pop())
    if not run or not words or words[-1].lower() in PREPOSITIONS:
        return None
    return " ".join(run)


_TOPIC = re.compile(r"\b(?:about|on|regarding|over|of|after|when|concerning|following)\b\s*(.*)$", re.IGNORECASE)


def _topic_match(question: str, asked: str) -> tuple[re.Match[str], int] | None:
    last = asked.split()[-1].lower()
    at = question.lower().rfind(last)
    if at < 0:
        return None
    m = _TOPIC.search(question[at + len(last) :])
    return (m, at + len(last)) if m and m.group(1).strip(" ?!.") else None


def asked_topic(question: str, asked: str) -> str | None:
    """What "what did X say about Y?" asks X's words to be about (Y), as the question words it."""
    found = _topic_match(question, asked)
    return found[0].group(1).strip(" ?!.") if found else None


_TIME_WORDS = frozenset({"after", "when", "following"})


def topic_phrase(question: str, asked: str, typed: str | None = None) -> str | None:
    """The topic with the word that ties it to the speech, for a reason a reader can parse: "about
    the budget", but "when she won" (not "about she won"). Spelled as `typed` when that is the
    same question in other capitals (the rules read a truecased copy)."""
    found = _topic_match(question, asked)
    if found is None:
        return None
    m, base = found
    source = typed if typed is not None and len(typed) == len(question) else question
    tie = m.group(0).split(None, 1)[0].lower()
    topic = source[base + m.start(1) : base + m.end(1)].strip(" ?!.")
    return f"{tie if tie in _TIME_WORDS else 'about'} {topic}"
