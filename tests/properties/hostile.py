"""Hypothesis strategies for what a careless or hostile client posts: random unicode,
very long text, NUL bytes, numbers of any size and sign, impossible dates and times,
ids of other people's objects, missing, extra and repeated fields."""

import re

from hypothesis import strategies as st

# Text a field may receive. Lone surrogates are left out: a browser cannot send them in
# UTF-8 and the test client could not encode them (invalid bytes are sent by
# `raw_form_body` instead).
NASTY_STRINGS = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    "%00",
    "\u202eRTL override",
    "\ufeffBOM",
    "\u200b",  # zero-width space
    "e\u0301",  # combining accent
    "🙂" * 3,
    "İıß",
    "null",
    "None",
    "undefined",
    "true",
    "on",
    "0",
    "-0",
    "-1",
    "1.5",
    "1,5",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "0x10",
    "9" * 30,
    "-" + "9" * 30,
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "=cmd|' /C calc'!A0",
    "{{ 7*7 }}",
    "%(count)d %s",
    "../../etc/passwd",
    "javascript:alert(1)",
    "//evil.example/",
]
NASTY_DATES = [
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "10000-01-01",
    "-2026-01-01",
    "2026-02-30",
    "2026-13-01",
    "2026-1-1",
    "1970-01-01",
    "1900-01-01",
    "2100-01-01",
    "31/01/2026",
    "01/31/2026",
    "2026-01-01T00:00:00Z",
    "2026-W01",
]
NASTY_TIMES = ["24:00", "25:61", "-1:00", "23:59:60", "00:00", "23:59", "12", "12:00:00.9999999"]
LONG_LENGTHS = [101, 151, 201, 255, 501, 1001, 2001, 20_001, 100_000]


def long_text() -> st.SearchStrategy[str]:
    return st.builds(
        lambda chunk, length: (chunk * length)[:length],
        st.sampled_from(["a", "9", "é", "🙂", " ", "ab\n"]),
        st.sampled_from(LONG_LENGTHS),
    )


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile value for a form field, as the text a request carries."""
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        st.text(max_size=40),
        long_text(),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(NASTY_DATES),
        st.sampled_from(NASTY_TIMES),
    )


def hostile_number() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.integers(min_value=-2, max_value=1000).map(str),
        st.sampled_from(["1e309", "NaN", "-0", "1.5", "0x10", "١٢", "²", " 7 ", ""]),
    )


def kind_of(value: str) -> str:
    """What a valid value looks like, so the spoilt one is a near miss of its kind."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "date"
    if re.fullmatch(r"\d{1,2}:\d{2}", value):
        return "time"
    if re.fullmatch(r"-?\d{1,9}", value):
        return "number"
    return "text"


def hostile_value(ids=(), *, like: str = "") -> st.SearchStrategy[str | list[str]]:
    """A value, sometimes an id of someone else's object, sometimes a repeated key; most
    often a near miss of the kind of `like` (an impossible date for a date field)."""
    near_miss = {
        "date": st.sampled_from(NASTY_DATES),
        "time": st.sampled_from(NASTY_TIMES),
        "number": hostile_number(),
        "text": hostile_text(),
    }[kind_of(like)]
    single = st.one_of(near_miss, near_miss, hostile_text())
    if ids:
        single = st.one_of(single, st.sampled_from([str(i) for i in ids]))
    return st.one_of(single, st.lists(single, min_size=2, max_size=3))


FIELD_NAMES = st.one_of(
    st.sampled_from(["csrfmiddlewaretoken", "id", "pk", "user", "school", "is_staff", "role"]),
    st.text(min_size=1, max_size=20),
)


@st.composite
def hostile_form(draw, valid: dict, *, ids=(), extra: bool = True) -> dict:
    """Start from a valid submission and spoil it: one field, two, or any number of them
    replaced by a hostile value, dropped or sent twice (one bad field among good ones
    reaches the deepest code); sometimes extra fields the form never asked for."""
    keys = list(valid)
    spoilt: set[str] = set()
    if keys:
        how_many = draw(st.sampled_from(["one", "one", "two", "any"]))
        if how_many == "any":
            spoilt = {key for key in keys if draw(st.booleans())}
        else:
            size = min(len(keys), 1 if how_many == "one" else 2)
            spoilt = set(draw(st.lists(st.sampled_from(keys), min_size=size, max_size=size)))
    data = {}
    for key, value in valid.items():
        if key not in spoilt:
            data[key] = value
            continue
        action = draw(st.sampled_from(["hostile", "hostile", "hostile", "drop", "twice"]))
        if action == "hostile":
            data[key] = draw(hostile_value(ids, like=value))
        elif action == "twice":
            data[key] = [value, draw(hostile_text())]
    if extra and draw(st.booleans()):
        data.update(draw(st.dictionaries(FIELD_NAMES, hostile_value(ids), max_size=2)))
    return data


# The extremes of each kind of value, tried in every field of that kind before the random
# examples (a year-9999 date is one draw in hundreds, and the first thing to break).
EXTREMES = {
    "date": ["0001-01-01", "9999-12-31"],
    "time": ["23:59"],
    "number": ["-1", str(2**63)],
    "text": [],
}


def edge_forms(valid: dict) -> list[dict]:
    """`valid` with one field at a time set to each extreme of its kind."""
    return [
        {**valid, key: extreme}
        for key, value in valid.items()
        if isinstance(value, str)
        for extreme in EXTREMES[kind_of(value)]
    ]


def raw_form_body(data: dict) -> st.SearchStrategy[bytes]:
    """The form urlencoded with bytes that are not UTF-8 spliced in."""
    from urllib.parse import quote_plus

    def encode(junk: bytes) -> bytes:
        pairs = []
        for key, values in data.items():
            for value in values if isinstance(values, list) else [values]:
                pairs.append(f"{quote_plus(key)}={quote_plus(str(value))}".encode())
        pairs.append(b"junk=" + junk)
        return b"&".join(pairs)

    return st.sampled_from([b"%FF%FE", b"%C3%28", b"%ED%A0%80", b"\xff\xfe", b"%", b"%%=&&="]).map(
        encode
    )
