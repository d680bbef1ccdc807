"""Instrument definitions: versioned JSON files read and checked when Django starts.

Each file under `instruments/definitions/` (and under every directory named in
`RUANGBK_INSTRUMENT_DIRS`) describes one questionnaire: its items in Indonesian and
English, the response scale, subscales, reverse-keyed items and score bands. A file that
breaks a rule stops start-up with a `DefinitionError` naming the file and the problem.
A school's file with the same code as a shipped one replaces it (its own validated
adaptation); a new code adds an instrument.
"""

import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation

BUILT_IN_DIRECTORY = Path(__file__).resolve().parent / "definitions"
LANGUAGES = ("id", "en")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
COUNSELOR_PLACEHOLDER = "{counselor}"
# Instruments every completed session sends; start-up fails without them.
REQUIRED_CODES = ("wai-sr", "amas")


class DefinitionError(Exception):
    """A definition file breaks a rule; the message names the file and the rule."""


@dataclass(frozen=True)
class Text:
    """A text in both languages; shown in the active one."""

    id: str
    en: str

    def __str__(self) -> str:
        language = translation.get_language() or settings.LANGUAGE_CODE
        return self.en if language.startswith("en") else self.id


@dataclass(frozen=True)
class Item:
    number: int
    text: Text
    kind: str = "choice"  # "choice": answered on the scale; "text": free text
    required: bool = True

    @property
    def is_choice(self) -> bool:
        return self.kind == "choice"

    def text_for(self, counselor_name: str) -> str:
        """The item in the active language, naming the student's counselor."""
        return with_counselor(self.text, counselor_name)


def with_counselor(text: Text, counselor_name: str) -> str:
    """`text` in the active language with {counselor} replaced by the name."""
    shown = str(text)
    if COUNSELOR_PLACEHOLDER not in shown:
        return shown
    shown = shown.replace(COUNSELOR_PLACEHOLDER, counselor_name)
    return shown[:1].upper() + shown[1:]


@dataclass(frozen=True)
class Subscale:
    code: str
    name: Text
    items: tuple[int, ...]


@dataclass(frozen=True)
class Band:
    code: str
    label: Text
    min: int
    max: int


@dataclass(frozen=True)
class ChangeReference:
    """Published reliability and SD of the total, for the reliable change index."""

    reliability: float
    sd: float
    source: Text


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    name: Text
    short_name: Text
    citation: str
    translation_note: Text | None
    instructions: Text | None
    is_optional: bool
    is_scored: bool
    is_sent_after_sessions: bool
    scale_min: int
    scale_max: int
    scale_labels: tuple[tuple[int, Text], ...]
    items: tuple[Item, ...]
    reverse_keyed: frozenset[int]
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    reference: ChangeReference | None = None

    @property
    def choice_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.is_choice)

    @property
    def total_min(self) -> int:
        return self.scale_min * len(self.choice_items)

    @property
    def total_max(self) -> int:
        return self.scale_max * len(self.choice_items)

    def item(self, number: int) -> Item:
        return self.items[number - 1]

    def band(self, code: str) -> Band | None:
        return next((band for band in self.bands if band.code == code), None)

    def band_for(self, total: int) -> Band | None:
        return next((band for band in self.bands if band.min <= total <= band.max), None)


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(language), str) and value[language].strip() for language in LANGUAGES
    ):
        raise DefinitionError(f"{where} needs a text in Indonesian (id) and English (en)")
    return Text(id=value["id"].strip(), en=value["en"].strip())


def _optional_text(data: dict, key: str) -> Text | None:
    return _text(data[key], key) if key in data else None


def _integer(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DefinitionError(f"{where} must be a whole number")
    return value


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not CODE_PATTERN.match(value):
        raise DefinitionError(
            f"{where} must be a short code of lower-case letters, digits, '-' or '_'"
        )
    return value


def _scale(data: dict) -> tuple[int, int, tuple[tuple[int, Text], ...]]:
    scale = data.get("scale")
    if not isinstance(scale, dict):
        raise DefinitionError("'scale' is missing")
    low = _integer(scale.get("min"), "scale min")
    high = _integer(scale.get("max"), "scale max")
    if low >= high:
        raise DefinitionError("scale min must be below scale max")
    labels = scale.get("labels")
    if not isinstance(labels, dict):
        raise DefinitionError("scale labels are missing")
    unknown = sorted(set(labels) - {str(point) for point in range(low, high + 1)})
    if unknown:
        raise DefinitionError(f"scale labels name points outside {low}–{high}: {unknown}")
    return (
        low,
        high,
        tuple(
            (point, _text(labels.get(str(point)), f"scale label {point}"))
            for point in range(low, high + 1)
        ),
    )


def _items(data: dict) -> tuple[Item, ...]:
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise DefinitionError("'items' must list at least one item")
    items: dict[int, Item] = {}
    for position, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            raise DefinitionError(f"item {position} in the list is not an object")
        number = _integer(raw.get("number"), f"the number of item {position} in the list")
        if number in items:
            raise DefinitionError(f"item {number} appears twice")
        kind = raw.get("kind", "choice")
        if kind not in ("choice", "text"):
            raise DefinitionError(f"item {number} has an unknown kind {kind!r}")
        required = raw.get("required", kind == "choice")
        if not isinstance(required, bool):
            raise DefinitionError(f"item {number}: 'required' must be true or false")
        if kind == "choice" and not required:
            raise DefinitionError(f"item {number}: a scale item is always required")
        text = _text(raw.get("text"), f"item {number}")
        items[number] = Item(number=number, text=text, kind=kind, required=required)
    if min(items) < 1:
        raise DefinitionError("items are numbered from 1")
    for number in range(1, max(items) + 1):
        if number not in items:
            raise DefinitionError(
                f"item {number} is missing (items are numbered 1 to {max(items)})"
            )
    return tuple(items[number] for number in sorted(items))


def _item_numbers(value: Any, where: str, choices: set[int]) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise DefinitionError(f"{where} must be a list of item numbers")
    numbers = tuple(_integer(number, where) for number in value)
    for number in numbers:
        if number not in choices:
            raise DefinitionError(f"{where} names item {number}, which is not a scale item")
    if len(set(numbers)) != len(numbers):
        raise DefinitionError(f"{where} names an item twice")
    return numbers


def _subscales(data: dict, choices: set[int]) -> tuple[Subscale, ...]:
    raw_subscales = data.get("subscales", [])
    if not isinstance(raw_subscales, list):
        raise DefinitionError("'subscales' must be a list")
    subscales = []
    for raw in raw_subscales:
        if not isinstance(raw, dict):
            raise DefinitionError("every subscale must be an object")
        code = _code(raw.get("code"), "a subscale code")
        if any(subscale.code == code for subscale in subscales):
            raise DefinitionError(f"subscale {code!r} appears twice")
        items = _item_numbers(raw.get("items"), f"subscale {code!r}", choices)
        if not items:
            raise DefinitionError(f"subscale {code!r} has no items")
        subscales.append(Subscale(code=code, name=_text(raw.get("name"), code), items=items))
    return tuple(subscales)


def _bands(data: dict, total_min: int, total_max: int) -> tuple[Band, ...]:
    raw_bands = data.get("bands", [])
    if not isinstance(raw_bands, list):
        raise DefinitionError("'bands' must be a list")
    bands = []
    for raw in raw_bands:
        if not isinstance(raw, dict):
            raise DefinitionError("every band must be an object")
        code = _code(raw.get("code"), "a band code")
        low = _integer(raw.get("min"), f"band {code!r} min")
        high = _integer(raw.get("max"), f"band {code!r} max")
        if low > high:
            raise DefinitionError(f"band {code!r} has min {low} above max {high}")
        if any(band.code == code for band in bands):
            raise DefinitionError(f"band {code!r} appears twice")
        bands.append(
            Band(code=code, label=_text(raw.get("label"), f"band {code!r}"), min=low, max=high)
        )
    bands.sort(key=lambda band: band.min)
    for lower, upper in pairwise(bands):
        if upper.min <= lower.max:
            raise DefinitionError(
                f"bands {lower.code!r} ({lower.min}–{lower.max}) and "
                f"{upper.code!r} ({upper.min}–{upper.max}) overlap"
            )
        if upper.min > lower.max + 1:
            raise DefinitionError(f"no band covers totals {lower.max + 1}–{upper.min - 1}")
    if bands and (bands[0].min != total_min or bands[-1].max != total_max):
        raise DefinitionError(
            f"bands must run from the lowest total {total_min} to the highest {total_max}"
        )
    return tuple(bands)


def _reference(data: dict) -> ChangeReference | None:
    """The optional "reliable_change" block: {"reliability": 0–1, "sd": > 0, "source": text}."""
    raw = data.get("reliable_change")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError("'reliable_change' must be an object")
    reliability, sd = raw.get("reliability"), raw.get("sd")
    if isinstance(reliability, bool) or not isinstance(reliability, int | float):
        raise DefinitionError("'reliable_change' reliability must be a number")
    if not 0 < reliability < 1:
        raise DefinitionError("'reliable_change' reliability must lie between 0 and 1")
    if isinstance(sd, bool) or not isinstance(sd, int | float) or sd <= 0:
        raise DefinitionError("'reliable_change' sd must be a positive number")
    source = _text(raw.get("source"), "'reliable_change' source")
    return ChangeReference(reliability=float(reliability), sd=float(sd), source=source)


def parse_definition(data: Any) -> Instrument:
    """Check one definition (already read from JSON) and build the instrument."""
    if not isinstance(data, dict):
        raise DefinitionError("a definition must be a JSON object")
    code = _code(data.get("code"), "'code'")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise DefinitionError("'version' is missing")
    citation = data.get("citation")
    if not isinstance(citation, str) or not citation.strip():
        raise DefinitionError("'citation' is missing: say where the items come from")
    for flag in ("optional", "scored", "after_every_session"):
        if not isinstance(data.get(flag, False), bool):
            raise DefinitionError(f"'{flag}' must be true or false")
    is_scored = data.get("scored", True)
    scale_min, scale_max, scale_labels = _scale(data)
    items = _items(data)
    choices = {item.number for item in items if item.is_choice}
    if not choices:
        raise DefinitionError("at least one item must be answered on the scale")
    reverse_keyed = frozenset(
        _item_numbers(data.get("reverse_keyed", []), "'reverse_keyed'", choices)
    )
    subscales = _subscales(data, choices)
    total_min, total_max = scale_min * len(choices), scale_max * len(choices)
    bands = _bands(data, total_min, total_max)
    if is_scored and not bands:
        raise DefinitionError("a scored instrument needs score bands")
    if not is_scored and (bands or subscales):
        raise DefinitionError("an instrument that is not scored has no bands or subscales")
    name = _text(data.get("name"), "'name'")
    return Instrument(
        code=code,
        version=version.strip(),
        name=name,
        short_name=_optional_text(data, "short_name") or name,
        citation=citation.strip(),
        translation_note=_optional_text(data, "translation_note"),
        instructions=_optional_text(data, "instructions"),
        is_optional=data.get("optional", False),
        is_scored=is_scored,
        is_sent_after_sessions=data.get("after_every_session", False),
        scale_min=scale_min,
        scale_max=scale_max,
        scale_labels=scale_labels,
        items=items,
        reverse_keyed=reverse_keyed,
        subscales=subscales,
        bands=bands,
        reference=_reference(data),
    )


def load_definition(path: Path) -> Instrument:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError(f"{path}: cannot be read as JSON ({error})") from error
    try:
        return parse_definition(data)
    except DefinitionError as error:
        raise DefinitionError(f"{path}: {error}") from error


def load_directories(directories: list[Path]) -> dict[str, Instrument]:
    """Every definition in `directories`; a later directory's file replaces an earlier
    one with the same code; two files with one code in one directory are an error."""
    instruments: dict[str, Instrument] = {}
    for directory in directories:
        if not directory.is_dir():
            raise DefinitionError(f"{directory}: instrument directory does not exist")
        seen: dict[str, Path] = {}
        for path in sorted(directory.glob("*.json")):
            instrument = load_definition(path)
            if instrument.code in seen:
                raise DefinitionError(
                    f"{path}: code {instrument.code!r} is already used by {seen[instrument.code]}"
                )
            seen[instrument.code] = path
            instruments[instrument.code] = instrument
    for code in REQUIRED_CODES:
        if code not in instruments:
            raise DefinitionError(f"no definition has the code {code!r}, which every session uses")
    return instruments


_registry: dict[str, Instrument] = {}


def registry_load() -> dict[str, Instrument]:
    """Read all definitions again (at start-up, or in a test that changed settings)."""
    extra = [Path(directory) for directory in getattr(settings, "INSTRUMENT_DIRS", [])]
    loaded = load_directories([BUILT_IN_DIRECTORY, *extra])
    _registry.clear()
    _registry.update(loaded)
    return _registry


def all_instruments() -> list[Instrument]:
    if not _registry:
        registry_load()
    return sorted(
        _registry.values(), key=lambda instrument: (instrument.is_optional, instrument.code)
    )


def get_instrument(code: str) -> Instrument | None:
    if not _registry:
        registry_load()
    return _registry.get(code)
