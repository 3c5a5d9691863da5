"""Facts a reader would keep, pulled out of one sentence: names, numbers with their noun, quotes. Pure.

*Names* are people, places and organisations as written ("Staffan de Mistura", "U.N.", "Idlib"): runs of
capitalised words in Latin, Cyrillic or Greek script. Not names: a sentence's (or a quote's, or a
heading's) first word on its own, words of a Title Case or SHOUTED line, social handles, web addresses and
their fragments ("COM"), interface words ("Facebook", "Follow", "Close Get"), units ("GB", "GHz"),
titles on their own ("Rep."), months and weekdays. A possessive ends a name: "Britain's Conservative
Party" holds "Britain" and "Conservative Party", never "Britain Conservative Party".

*Numbers* carry their noun or unit: "34,000 people", "6 injured", "12 were hurt", "$2 million", "35%",
"4.5 magnitude", "25-year-old man". A bare number is dropped, and so are dates, times, years and numbers
that belong to a name ("Channel 5", "Route 9", "Euro 2020").

Rules, not a NER library: spaCy's small English model was measured against them (docs/novelty.md) and
left out for its cost within the novelty step's 2 ms and for knowing one language.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.core.prepared import SENTENCES


def _list(words: str) -> list[str]:
    return words.split()


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MIN_QUOTE_WORDS = 4
_QUOTE = re.compile(r"[“\"]([^”\"]{8,600})[”\"]")

# Web addresses, e-mail addresses, handles and hashtags are cut out before names are looked for, so that
# "CBSDFW.COM" or "@AmyKup" never become names and a name never runs across them.
_LINKISH = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+|(?<!\w)[@#]\w+|\b[\w-]+\.(?:com|org|net|gov|edu|co|uk|tv)\b", re.I
)
_LINK_HINTS = ("http", "www.", "@", "#", ".com", ".org", ".net", ".gov", ".edu", ".co", ".uk", ".tv")
_LETTER = "A-Za-zÀ-ÖØ-öø-ÿĀ-ſƀ-ɏЀ-ӿͰ-Ͽ"
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſЀ-ЯΑ-Ω"
# One word of a name: Capitalised (with one inner capital after a short prefix: McDonald, DeSantis,
# LeBron, MacBook), an acronym (NASA), or initials (U.N., U.S.).
_WORD = (
    rf"(?:[{_UPPER}](?:[a-zß-öø-ÿа-яα-ω]{{1,2}}[{_UPPER}])?[a-zß-öø-ÿа-яα-ω'’-]*[a-zß-öø-ÿа-яα-ω]"
    rf"|[{_UPPER}]{{2,}}|[{_UPPER}]\.(?:[{_UPPER}]\.)+)"
)
_CONNECTORS = _set("de da do dos das di del della van von der den al bin ibn la le du y e")
_CONNECT = "(?:" + "|".join(sorted(_CONNECTORS)) + ")"
_RUN = re.compile(
    rf"(?<![{_LETTER}\d'’-])(?:(?:al|el|ad|as)-)?{_WORD}(?:[’']s\b)?"
    rf"(?:(?:\s+|\s+{_CONNECT}\s+|-)(?:(?:al|el|ad|as)-)?{_WORD}(?:[’']s\b)?)*(?![{_LETTER}\d])"
)
_POSSESSIVE = re.compile(r"[’']s$")
_NAME_NUMBER = re.compile(r" \d{1,4}\b(?![.,]\d)")
# After these (or at the start) a word is capitalised because it opens a sentence, heading or quote.
_OPENS = frozenset('.!?:;|•–—-([“"‘«')

# Words that are capitalised for reasons other than being a name.
_NOT_NAMES = _set(
    """the a an and but or if in on at of for to by with from as this that these those it its he she they
    we i i'm i've i'd i'll you your his her their our there here when where while after before during since
    until because although though why how what who which whose whom yet so not no yes all any each every
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed
    thu fri sat sun mr mrs ms dr rep sen gov gen lt sgt det capt col prof st according however meanwhile
    also more most many some several police officials authorities update updated breaking live watch
    video videos photo photos image images gallery click close get follow share shares tweet email print
    subscribe sign login log facebook twitter instagram youtube linkedin pinterest whatsapp reddit tiktok
    snapchat google newsletter comments comment tags tag read related advertisement menu home search
    news more top latest am pm a.m p.m gmt utc est edt pst pdt cst cdt bst cet am pm gb mb kb tb ghz mhz
    hz mm cm km kg mph kph fps wh kwh mw gw rs fy ps os pc tv ok"""
)
# All-capital words that are shouted, not acronyms.
_SHOUTED = _set(
    """news video watch miss insight reaction warning photos pics update breaking live exclusive more read
    latest revealed analysis poll gallery opinion new top watch don't dont see"""
)


def extract_quotes(sentence: str) -> list[str]:
    known = SENTENCES.get(sentence)  # worked out in a parse worker (core.prepared)
    if known is not None:
        return list(known.quotes)
    return [q.strip(" ,.") for q in _QUOTE.findall(sentence) if len(q.split()) >= _MIN_QUOTE_WORDS]


# Function words a Title Case headline capitalises and a sentence does not.
_TITLE_WORDS = _set(
    """about with from into your will have that this than what when over just only been after before under
    their they them were are for and but not can does how why our out all more most is its it you"""
)


_PUNCT = "\"'“”‘’()[]{},.;:!?«»—–-|"


def _shape(sentence: str) -> tuple[bool, bool]:
    """(Title Case line, SHOUTED line): either way its capitals say nothing about names."""
    words = [w.strip(_PUNCT) for w in sentence.split()[1:]]
    words = [w for w in words if w[:1].isalpha()]
    title = sum(w[0].isupper() and w.lower() in _TITLE_WORDS for w in words) >= 2
    long = [w for w in words if len(w) > 3]
    shout = len(long) >= 2 and sum(w.isupper() for w in long) / len(long) >= 0.5
    return title, shout


def _word_ok(word: str, shouted: bool) -> bool:
    bare = _POSSESSIVE.sub("", word)
    low = bare.lower().rstrip(".")
    if low in _NOT_NAMES or not bare:
        return False
    if bare.isupper() and len(bare.replace(".", "")) > 1:
        # An acronym is short; a long all-capital word is a shouted one or a handle.
        return not shouted and len(bare) <= 5 and low not in _SHOUTED
    return True


def extract_names(sentence: str) -> list[str]:
    """Names as written, split at possessives and at words that are not names (see module docstring)."""
    known = SENTENCES.get(sentence)
    if known is not None:
        return list(known.names)
    text = _LINKISH.sub(" | ", sentence) if any(h in sentence for h in _LINK_HINTS) else sentence
    title_case, shouted = _shape(text)
    if title_case:
        return []
    names: list[str] = []
    for m in _RUN.finditer(text):
        prev = text[max(0, m.start() - 8) : m.start()].rstrip()[-1:]
        if prev.isdigit():
            continue  # "16 GB", "4 PM": a unit after a number
        initial = m.start() == 0 or prev in _OPENS or not prev
        found = _split_run(m.group(0), initial, shouted)
        numbered = _NAME_NUMBER.match(text, m.end())
        if found and numbered and m.group(0).endswith(found[-1]):
            found[-1] += numbered.group(0)  # "Route 9", "Channel 5", "Euro 2020"
        names.extend(found)
    return list(dict.fromkeys(names))


def _split_run(run: str, initial: bool, shouted: bool) -> list[str]:
    """One capitalised run -> the names in it. Words that are not names and possessives split it; the
    first word of a sentence on its own is no name ("Police said" -> nothing; "Staffan de Mistura said"
    -> the name)."""
    groups: list[list[tuple[str, int]]] = [[]]
    for i, token in enumerate(run.split()):
        if not _word_ok(token, shouted):
            groups.append([])
            continue
        groups[-1].append((_POSSESSIVE.sub("", token), i))
        if _POSSESSIVE.search(token):
            groups.append([])
    out = []
    for group in groups:
        while group and group[0][0].lower() in _CONNECTORS:
            group = group[1:]
        while group and group[-1][0].lower() in _CONNECTORS:
            group = group[:-1]
        if not group or (initial and len(group) == 1 and group[0][1] == 0):
            continue
        out.append(" ".join(w for w, _ in group))
    return out


# --- numbers ---------------------------------------------------------------------------------------------

_SCALE = r"(?:thousand|million|billion|trillion|bn|m|k|mn|crore|lakh)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER = re.compile(
    rf"(?<![\w.,/:$€£¥-])(?P<cur>[$€£¥])?\s?(?P<n>{_NUM})(?P<scale>\s?{_SCALE}\b)?"
    r"(?P<pct>\s?%|\s+per ?cent\b|\s+percent\b)?"
    r"(?P<age>-(?:year|month|week|day)-old)?"
    r"(?=(?P<rest>(?:\s+[\w’'-]+){0,3}))",
    re.I,
)
WORD_NUMBERS = _list(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen "
    "dozens hundreds thousands"
)
# Lower-case text only, and a look-ahead on the first letter: an alternation of 31 words tried at every
# word start was the slowest part of the facts (bench/bench_novelty.py).
_WORD_NUMBER = re.compile(r"\b(?=[tfsenhd])(" + "|".join(WORD_NUMBERS) + r")\s+([a-z][\w-]+)")
# Nouns that make a word number a fact worth keeping (counts of people, casualties and the like).
_COUNTED = _set(
    """people persons dead killed injured wounded hurt victims died missing men women children kids students
    officers suspects homes houses buildings families residents soldiers civilians fighters workers
    passengers patients cases deaths injuries shots rounds arrests arrested others adults teens teenagers
    bodies survivors hostages evacuated displaced"""
)
_SKIP = _set("a an the of and or to in on at for by with from as than about")
_AUX = _set("were was are is have had has been be")
_MONTHS = _set("jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august")
_MONTHS |= _set("september october november december")
# Words after which a number is a label, not a count ("Flight 370", "Article 5").
_LABELS = _set("no number page room flight route highway interstate channel apt suite article section chapter")
_LABELS |= _set("version level grade since until")
_TIME_AFTER = re.compile(r"^(?::\d\d|\s*(?:[ap]\.?m\.?|o'clock|h\b|hrs\b|gmt|utc|et|pt)|(?:st|nd|rd|th)\b)", re.I)
_PLAIN_WORD = re.compile(r"[a-z][a-z-]*")
_JOINED_AFTER = re.compile(r"[/:-]\d")
# Capitalised words that may open a sentence right before a count ("About 300 people ...").
_QUANTIFIERS = _set("about nearly almost around roughly some only over more at least just up to")
_MONTH_AFTER = re.compile(r"^\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.I)


def _label_or_name(before: str) -> bool:
    """The word before a number makes it a date ("Nov. 19"), a label ("Flight 370") or part of a name
    ("Channel 5", "Route 9", "Euro 2020"): not a count."""
    words = before.split()
    if not words or not before[-1:].isspace():
        return False
    word = words[-1].strip(_PUNCT)
    low = word.lower()
    if low in _MONTHS or low in _LABELS:
        return True
    return word[:1].isupper() and low not in _QUANTIFIERS and low not in _NOT_NAMES


def _is_year(n: str) -> bool:
    return len(n) == 4 and n.isdigit() and 1800 <= int(n) <= 2100


def _noun(rest: str) -> str:
    """The noun phrase after a number: skip one article-like word, and take the participle after an
    auxiliary ("12 were hurt")."""
    words = [w for w in rest.split() if w]
    out: list[str] = []
    for w in words:
        low = w.lower().strip("’'")
        if not _PLAIN_WORD.fullmatch(low):
            break
        if low in _SKIP:
            if out:
                break
            continue
        out.append(w.strip("’'") if w.isupper() else low)
        if low not in _AUX:
            break
    if out and out[-1].lower() in _AUX:
        return ""
    return " ".join(out)


def extract_numbers(sentence: str) -> list[str]:
    """Numbers with their noun or unit; dates, times, years and bare numbers left out."""
    known = SENTENCES.get(sentence)
    return list(known.numbers if known is not None else _numbers(sentence))


# Remembered: novelty asks for the numbers of every sentence of a version, and the versions of one story
# repeat most of their sentences.
@lru_cache(maxsize=4096)
def _numbers(sentence: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in _NUMBER.finditer(sentence):
        # a short window around the number: its neighbours decide, and a whole-prefix search per number
        # would make a long sentence quadratic
        n, before, after = m.group("n"), sentence[max(0, m.start() - 24) : m.start()], sentence[m.end("n") :][:24]
        cur, scale, pct, age = m.group("cur"), m.group("scale"), m.group("pct"), m.group("age")
        if _TIME_AFTER.match(after) or _MONTH_AFTER.match(after) or _JOINED_AFTER.match(after):
            continue
        if not cur and _label_or_name(before):
            continue
        if _is_year(n) and not cur and not scale:
            continue
        head = f"{cur or ''}{n}{(' ' + scale.strip()) if scale else ''}"
        if pct:
            out.append(f"{head}%")
            continue
        noun = _noun(m.group("rest"))
        if age:
            out.append(f"{n}{age}{(' ' + noun) if noun else ''}")
        elif cur or scale:
            out.append(head if not noun or cur else f"{head} {noun}")
        elif noun:
            out.append(f"{head} {noun}")
    for m in _WORD_NUMBER.finditer(sentence.lower()):
        if m.group(2) in _COUNTED:
            out.append(f"{m.group(1)} {m.group(2)}")
    return tuple(out)
