"""Free text fit for engineers: identifying tokens replaced by a tag. Pure (no I/O).

Presidio's analyzer runs with pattern recognisers only (no language model: `NoOpNlpEngine`):
its own e-mail, phone (Google's libphonenumber), date, IP and IBAN recognisers, plus ours for
what it does not know: military date-time groups, MGRS, coordinates in every common notation,
what3words, national phone layouts, clock times, callsigns, roster names, and names not in the
roster.

Names not in the roster are found by a capitalised-word heuristic: inside a sentence, a word
that starts with a capital (or is all capitals, four letters or more) is a name unless it is
in the domain vocabulary below or the caller's `keep` words; at the start of a sentence, where
every word is capitalised, it is a name only if it is no English dictionary word. Cost: a
technical term the vocabulary lacks is masked inside a sentence ("the Skynex" -> "the [name]"),
and a name that is also an English word ("Hunter", "Nighthawk") slips through when it opens a
sentence (inside one, it is masked).
"""

import functools
from collections.abc import Iterable
from typing import Any

import regex as re

TAGS = {"PERSON": "[name]", "CALLSIGN": "[name]", "POSITION": "[position]",
        "PHONE_NUMBER": "[phone]", "EMAIL_ADDRESS": "[email]", "DATE_TIME": "[time]",
        "IP_ADDRESS": "[address]", "IBAN_CODE": "[account]", "URL": "[address]"}

MONTHS = "(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_TENTHS = r"(?:[.,]\d+)?"

# (entity, name, pattern): our own recognisers, in Presidio's Pattern form, case-sensitive.
PATTERNS: list[tuple[str, str, str]] = [
    ("DATE_TIME", "date-time group", rf"\b\d{{6}}\s?[A-Z]\s?{MONTHS}\s?\d{{2}}(?:\d{{2}})?\b"),
    ("DATE_TIME", "date-time group, short", r"\b\d{6}[A-Z]\b"),
    ("DATE_TIME", "ISO date or timestamp",
     r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"),
    ("DATE_TIME", "day.month.year", r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"),
    ("DATE_TIME", "day month",
     rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s?{MONTHS}[a-z]*\.?(?:\s?\d{{2,4}})?\b"),
    ("DATE_TIME", "clock time",
     r"\b\d{1,2}[:h]\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?(?i:[ap]\.?m\.?|Z|UTC|hrs?|[LJ])\b)?"),
    ("DATE_TIME", "military clock time", r"\b\d{4}\s?(?i:hrs|hours|Z|UTC|L|J)\b"),
    ("DATE_TIME", "weekday", r"(?i)\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b"),
    ("POSITION", "MGRS", r"\b\d{1,2}\s?[C-HJ-NP-X]\s?[A-HJ-NP-Z]{2}\s?\d{1,5}\s?\d{1,5}\b"),
    ("POSITION", "degrees and minutes with symbols",
     rf"(?:[NSEW]\s?)?\d{{1,3}}\s?[°º˚]\s?\d{{1,2}}{_TENTHS}\s?['′’]"
     rf"(?:\s?\d{{1,2}}{_TENTHS}\s?(?:\"|″|”|''))?(?:\s?[NSEW]\b)?"),
    ("POSITION", "degrees and minutes with letters",
     rf"(?:[NSEW]\s?)?\b\d{{1,3}}d\s?\d{{1,2}}{_TENTHS}m(?:\s?\d{{1,2}}{_TENTHS}s)?(?:\s?[NSEW])?\b"),
    ("POSITION", "spaced degrees minutes seconds",
     rf"\b\d{{1,3}}\s\d{{2}}\s\d{{2}}{_TENTHS}\s?[NSEW]\b"),
    ("POSITION", "hemisphere then decimal degrees",
     r"(?<![\p{L}\d])[NSEW]\s?[-+]?\d{1,3}[.,]\d+(?:\s?°)?"),
    ("POSITION", "decimal degrees then hemisphere",
     r"[-+]?(?<![\d.])\d{1,3}[.,]\d+\s?[°º]?\s?[NSEW](?![\p{L}])"),
    ("POSITION", "labelled coordinate",
     r"(?i)\b(?:lat(?:itude)?|lon(?:gitude)?|lng|long)\s*[:=]?\s*[-+]?\d{1,3}(?:[.,]\d+)?\s?°?"),
    ("POSITION", "decimal pair", r"[-+]?\b\d{1,3}\.\d{3,}\s?°?\s*[,;/ ]\s*[-+]?\d{1,3}\.\d{3,}°?"),
    ("POSITION", "degrees", r"[-+]?\b\d{1,3}(?:[.,]\d+)?\s?[°º˚](?!\s?[CF]\b)"),
    ("POSITION", "what3words", r"(?:///|(?i:\bw3w):?\s*)\p{L}+\.\p{L}+\.\p{L}+"),
    ("POSITION", "dotted three words", r"\b\p{Ll}{2,}\.\p{Ll}{2,}\.\p{Ll}{2,}\b"),
    ("EMAIL_ADDRESS", "e-mail", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("CALLSIGN", "callsign", r"\b\p{L}{2,}(?:[-_]\d{1,3}){1,3}[A-Za-z]?\b|\b\p{Lu}{2,}\d{1,3}\b"),
]
# Six digits or more in groups: national phone layouts libphonenumber does not parse alone
# (0470/123456, 12-34-56).
DIGIT_GROUPS = r"(?<![\w.,])\+?\(?\d[\d\s()./-]{3,}\d(?!\w)"
MIN_PHONE_DIGITS = 6

# Words that are not names although capitalised inside a sentence: the trade's vocabulary.
VOCABULARY = frozenset("""
i ok eur usd utc gps gnss rtk ew rf uav uas ucav fpv c2 c-uas sam manpads imu esc lipo lidar
radar sar eo ir ai trl pk id hq los bvlos vlos ads-b sitl hitl api json csv pdf
ardupilot px4 mavlink qgroundcontrol mission planner betaflight inav dji mavic matrice autel
shahed geran lancet orlan zala kub supercam gerbera patriot pac-3 gepard iris-t nasams stinger
starlink sapient courageous dis vbs dcs liftoff velocidrone drl nato pac px
""".split())
LONG_ACRONYM = 4  # all-capital words shorter than this are taken as acronyms, not names


@functools.cache
def _dictionary() -> frozenset[str]:
    from english_words import get_english_words_set
    return frozenset(get_english_words_set(["gcide"], lower=True, alpha=True))


def _is_word(token: str) -> bool:
    """An English dictionary word, allowing the regular inflections the dictionary omits."""
    words = _dictionary()
    lower = token.lower()
    stems = [lower] + [lower[: -len(s)] + r for s, r in _INFLECTIONS if lower.endswith(s)]
    return any(stem in words for stem in stems)


_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"),
                ("ing", ""), ("ing", "e"), ("ly", ""))
_WORD = re.compile(r"\p{L}[\p{L}'’-]*\p{L}|\p{L}")
_SENTENCE_ENDS = frozenset(".!?:;\n\"“(•*-/")


def _opens_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in _SENTENCE_ENDS


def _names(text: str, keep: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of capitalised words taken for names (see the module docstring)."""
    found = []
    for match in _WORD.finditer(text):
        token = match.group()
        if not token[0].isupper() or token.lower() in VOCABULARY or token.lower() in keep:
            continue
        if token.isupper() and len(token) < LONG_ACRONYM:
            continue
        if _opens_sentence(text, match.start()) and _is_word(token):
            continue
        found.append(match.span())
    return found


def _roster_regex(roster: Iterable[str]) -> str | None:
    """One alternation of every roster entry and its parts of three letters or more."""
    words: set[str] = set()
    for entry in roster:
        entry = entry.strip()
        if entry:
            words.add(entry)
            words.update(t for t in re.split(r"[\s_.@-]+", entry) if len(t) >= 3)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"(?<!\w)(?:{alternatives})(?!\w)"


@functools.cache
def _analyzer() -> Any:
    """Presidio with pattern recognisers only: no language model is loaded (or downloaded)."""
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
    )
    class DigitGroups(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return sum(c.isdigit() for c in pattern_text) >= MIN_PHONE_DIGITS

    flags = re.DOTALL | re.MULTILINE
    ours = [PatternRecognizer(supported_entity=entity, name=name, global_regex_flags=flags,
                              patterns=[Pattern(name, pattern, 0.9)])
            for entity, name, pattern in PATTERNS]
    digits = DigitGroups(supported_entity="PHONE_NUMBER", name="digit groups",
                         patterns=[Pattern("digit groups", DIGIT_GROUPS, 0.5)])
    phones = PhoneRecognizer(supported_regions=("UA", "BE", "NL", "FR", "DE", "GB", "PL", "US"))
    registry = RecognizerRegistry(recognizers=[
        *ours, digits, phones, DateRecognizer(), IpRecognizer(), IbanRecognizer()])
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=engine)


def _vocabulary_callsign(text: str, start: int, end: int) -> bool:
    """'Shahed-136' names a threat, not a person."""
    word = re.match(r"\p{L}+", text[start:end])
    return word is not None and word.group().lower() in VOCABULARY


def find_identifiers(text: str, *, roster: Iterable[str] = (),
                     keep: Iterable[str] = ()) -> list[tuple[int, int, str]]:
    """Spans (start, end, tag) of everything identifying in `text`, overlaps merged."""
    spans = [(r.start, r.end, TAGS.get(r.entity_type, "[redacted]"))
             for r in _analyzer().analyze(text, language="en")
             if not (r.entity_type == "CALLSIGN" and _vocabulary_callsign(text, r.start, r.end))]
    roster_pattern = _roster_regex(roster)
    if roster_pattern is not None:
        spans += [(*m.span(), "[name]")
                  for m in re.finditer(roster_pattern, text, flags=re.IGNORECASE)]
    spans += [(*span, "[name]") for span in _names(text, frozenset(w.lower() for w in keep))]
    return _merged(spans)


def _merged(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, tagged as the longest of them."""
    merged: list[tuple[int, int, str, int]] = []
    for start, end, tag in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            longest = tag if end - start > last[3] else last[2]
            merged[-1] = (last[0], max(end, last[1]), longest, max(end - start, last[3]))
        else:
            merged.append((start, end, tag, end - start))
    return [(start, end, tag) for start, end, tag, _ in merged]


def scrub_text(text: str, *, roster: Iterable[str] = (), keep: Iterable[str] = ()) -> str:
    """`text` with names, callsigns, contacts, positions and times replaced by tags."""
    out, cursor = [], 0
    for start, end, tag in find_identifiers(text, roster=roster, keep=keep):
        out += [text[cursor:start], tag]
        cursor = end
    return "".join(out) + text[cursor:]
