"""Loading and checking instrument definitions: the shipped files, and every refusal."""

import json
import re
import shutil

import pytest
from django.utils import translation

from instruments.definitions import (
    BUILT_IN_DIRECTORY,
    REQUIRED_CODES,
    DefinitionError,
    Text,
    get_instrument,
    load_definition,
    load_directories,
    parse_definition,
    registry_load,
)
from instruments.forms import ScheduleForm

SHIPPED = {
    # file name: (code, number of items, number of scale items, scored)
    "wai-sr.json": ("wai-sr", 12, 12, True),
    "amas.json": ("amas", 9, 9, True),
    "service-evaluation.json": ("service-evaluation", 4, 3, False),
}


def text(word: str) -> dict:
    return {"id": f"{word} (id)", "en": f"{word} (en)"}


def minimal_definition() -> dict:
    """A valid definition: three items on 1–5 (total 3–15), one subscale, two bands."""
    return {
        "code": "mini",
        "version": "1.0",
        "name": text("Mini"),
        "citation": "Written for this test.",
        "scale": {
            "min": 1,
            "max": 5,
            "labels": {str(point): text(f"point {point}") for point in range(1, 6)},
        },
        "items": [{"number": number, "text": text(f"item {number}")} for number in (1, 2, 3)],
        "subscales": [{"code": "first", "name": text("First"), "items": [1, 2]}],
        "bands": [
            {"code": "low", "label": text("Low"), "min": 3, "max": 9},
            {"code": "high", "label": text("High"), "min": 10, "max": 15},
        ],
    }


@pytest.fixture(autouse=True)
def default_language():
    """Text shows the active language; start every test from the default, whatever an
    earlier test in this process activated."""
    with translation.override("id"):
        yield


@pytest.fixture
def definition() -> dict:
    return minimal_definition()


def write_json(path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# --- The shipped definitions --------------------------------------------------------


@pytest.mark.parametrize("file_name", list(SHIPPED))
def test_shipped_definition_loads_with_its_items_and_citation(file_name):
    code, item_count, choice_count, scored = SHIPPED[file_name]

    instrument = load_definition(BUILT_IN_DIRECTORY / file_name)

    assert instrument.code == code
    assert len(instrument.items) == item_count
    assert [item.number for item in instrument.items] == list(range(1, item_count + 1))
    assert len(instrument.choice_items) == choice_count
    assert instrument.is_scored is scored
    assert instrument.citation.strip()
    assert (instrument.scale_min, instrument.scale_max) == (1, 5)


@pytest.mark.parametrize("file_name", list(SHIPPED))
def test_shipped_definition_has_indonesian_and_english_text_for_every_item(file_name):
    instrument = load_definition(BUILT_IN_DIRECTORY / file_name)

    for item in instrument.items:
        assert item.text.id.strip(), f"item {item.number} has no Indonesian text"
        assert item.text.en.strip(), f"item {item.number} has no English text"
        assert item.text.id != item.text.en, f"item {item.number} is not translated"


def test_shipped_scored_instruments_have_the_published_totals_and_bands():
    wai_sr = load_definition(BUILT_IN_DIRECTORY / "wai-sr.json")
    amas = load_definition(BUILT_IN_DIRECTORY / "amas.json")

    assert (wai_sr.total_min, wai_sr.total_max) == (12, 60)
    assert [(band.code, band.min, band.max) for band in wai_sr.bands] == [
        ("low", 12, 27),
        ("medium", 28, 43),
        ("high", 44, 60),
    ]
    assert (amas.total_min, amas.total_max) == (9, 45)
    assert [(band.code, band.min, band.max) for band in amas.bands] == [
        ("low", 9, 12),
        ("fairly_low", 13, 17),
        ("medium", 18, 22),
        ("fairly_high", 23, 27),
        ("high", 28, 45),
    ]


def test_band_for_finds_the_band_of_a_total_and_none_outside():
    wai_sr = load_definition(BUILT_IN_DIRECTORY / "wai-sr.json")

    assert wai_sr.band_for(27).code == "low"
    assert wai_sr.band_for(28).code == "medium"
    assert wai_sr.band_for(44).code == "high"
    assert wai_sr.band_for(11) is None
    assert wai_sr.band_for(61) is None


def test_built_in_directory_loads_the_three_shipped_instruments():
    instruments = load_directories([BUILT_IN_DIRECTORY])

    assert set(instruments) == {"wai-sr", "amas", "service-evaluation"}
    assert all(instrument.version == "1.0" for instrument in instruments.values())


# --- Text and counselor names -------------------------------------------------------


def test_item_text_for_puts_the_counselor_name_first_and_capitalised():
    item = load_definition(BUILT_IN_DIRECTORY / "wai-sr.json").item(4)

    assert item.text_for("Bu Sari").startswith("Bu Sari dan saya")
    # A name written in lower case still starts the sentence with a capital.
    assert item.text_for("bu Sari").startswith("Bu Sari dan saya")
    assert "{counselor}" not in item.text_for("Bu Sari")
    with translation.override("en"):
        assert item.text_for("Bu Sari").startswith("Bu Sari and I collaborate")


def test_item_text_for_names_the_counselor_inside_a_sentence():
    item = load_definition(BUILT_IN_DIRECTORY / "wai-sr.json").item(3)

    assert item.text_for("Bu Sari") == "Saya percaya Bu Sari menyukai saya."


def test_item_text_without_placeholder_is_returned_unchanged():
    item = load_definition(BUILT_IN_DIRECTORY / "wai-sr.json").item(1)

    assert item.text_for("Bu Sari") == item.text.id


def test_text_is_indonesian_by_default_and_english_when_english_is_active():
    greeting = Text(id="Selamat pagi", en="Good morning")

    assert str(greeting) == "Selamat pagi"
    with translation.override("en"):
        assert str(greeting) == "Good morning"
    with translation.override("id"):
        assert str(greeting) == "Selamat pagi"


# --- Refusals of a single definition ------------------------------------------------


def test_minimal_definition_is_accepted(definition):
    # The refusal tests below mutate this definition: it must be valid as it is.
    instrument = parse_definition(definition)

    assert instrument.code == "mini"
    assert (instrument.total_min, instrument.total_max) == (3, 15)
    assert instrument.subscales[0].items == (1, 2)


def test_definition_with_a_missing_item_number_is_refused(definition):
    definition["items"][2]["number"] = 4  # items 1, 2, 4

    with pytest.raises(DefinitionError, match=r"item 3 is missing \(items are numbered 1 to 4\)"):
        parse_definition(definition)


def test_definition_with_items_not_starting_at_1_is_refused(definition):
    definition["items"][0]["number"] = 0

    with pytest.raises(DefinitionError, match="items are numbered from 1"):
        parse_definition(definition)


def test_definition_with_an_item_missing_its_indonesian_text_is_refused(definition):
    del definition["items"][1]["text"]["id"]

    with pytest.raises(DefinitionError, match=r"item 2 needs a text in Indonesian \(id\)"):
        parse_definition(definition)


def test_definition_with_an_item_with_blank_english_text_is_refused(definition):
    definition["items"][0]["text"]["en"] = "   "

    with pytest.raises(DefinitionError, match=r"item 1 needs a text .* English \(en\)"):
        parse_definition(definition)


def test_definition_with_an_item_number_twice_is_refused(definition):
    definition["items"][2]["number"] = 2

    with pytest.raises(DefinitionError, match="item 2 appears twice"):
        parse_definition(definition)


def test_definition_with_subscale_naming_unknown_item_is_refused(definition):
    definition["subscales"][0]["items"] = [1, 7]

    with pytest.raises(DefinitionError, match="subscale 'first' names item 7"):
        parse_definition(definition)


def test_definition_with_subscale_naming_a_free_text_item_is_refused(definition):
    definition["items"][2]["kind"] = "text"
    definition["subscales"][0]["items"] = [1, 3]
    definition["bands"] = [{"code": "all", "label": text("All"), "min": 2, "max": 10}]

    with pytest.raises(DefinitionError, match="names item 3, which is not a scale item"):
        parse_definition(definition)


def test_definition_with_reverse_keyed_unknown_item_is_refused(definition):
    definition["reverse_keyed"] = [4]

    with pytest.raises(DefinitionError, match="'reverse_keyed' names item 4"):
        parse_definition(definition)


def test_definition_with_overlapping_bands_is_refused(definition):
    definition["bands"][0]["max"] = 10  # low 3–10, high 10–15

    with pytest.raises(DefinitionError, match=r"bands 'low' \(3–10\) and 'high' \(10–15\) overlap"):
        parse_definition(definition)


def test_definition_with_a_gap_between_bands_is_refused(definition):
    definition["bands"][0]["max"] = 7  # low 3–7, high 10–15: nothing covers 8–9

    with pytest.raises(DefinitionError, match="no band covers totals 8–9"):
        parse_definition(definition)


def test_definition_with_bands_listed_out_of_order_is_accepted(definition):
    definition["bands"].reverse()

    instrument = parse_definition(definition)

    assert [band.code for band in instrument.bands] == ["low", "high"]


@pytest.mark.parametrize(
    ("band", "key", "value"),
    [
        (0, "min", 4),  # lowest total 3 not covered
        (0, "min", 2),  # reaches below the lowest total
        (1, "max", 14),  # highest total 15 not covered
        (1, "max", 16),  # reaches above the highest total
    ],
)
def test_definition_with_bands_not_spanning_lowest_to_highest_total_is_refused(
    definition, band, key, value
):
    definition["bands"][band][key] = value

    with pytest.raises(
        DefinitionError, match="bands must run from the lowest total 3 to the highest 15"
    ):
        parse_definition(definition)


def test_definition_with_a_band_min_above_its_max_is_refused(definition):
    definition["bands"] = [
        {"code": "low", "label": text("Low"), "min": 9, "max": 3},
        {"code": "high", "label": text("High"), "min": 10, "max": 15},
    ]

    with pytest.raises(DefinitionError, match="band 'low' has min 9 above max 3"):
        parse_definition(definition)


@pytest.mark.parametrize("bands", [[], None])
def test_scored_definition_without_bands_is_refused(definition, bands):
    if bands is None:
        del definition["bands"]
    else:
        definition["bands"] = bands

    with pytest.raises(DefinitionError, match="a scored instrument needs score bands"):
        parse_definition(definition)


def test_unscored_definition_with_bands_is_refused(definition):
    definition["scored"] = False
    del definition["subscales"]

    with pytest.raises(DefinitionError, match="not scored has no bands or subscales"):
        parse_definition(definition)


def test_definition_with_an_unknown_item_kind_is_refused(definition):
    definition["items"][1]["kind"] = "slider"

    with pytest.raises(DefinitionError, match="item 2 has an unknown kind 'slider'"):
        parse_definition(definition)


@pytest.mark.parametrize(("low", "high"), [(5, 5), (5, 1)])
def test_definition_with_scale_min_not_below_max_is_refused(definition, low, high):
    definition["scale"]["min"] = low
    definition["scale"]["max"] = high

    with pytest.raises(DefinitionError, match="scale min must be below scale max"):
        parse_definition(definition)


def test_definition_with_a_scale_label_outside_the_scale_is_refused(definition):
    definition["scale"]["labels"]["6"] = text("point 6")

    with pytest.raises(DefinitionError, match=r"scale labels name points outside 1–5: \['6'\]"):
        parse_definition(definition)


@pytest.mark.parametrize("citation", [None, "", "   ", 42])
def test_definition_without_a_citation_is_refused(definition, citation):
    if citation is None:
        del definition["citation"]
    else:
        definition["citation"] = citation

    with pytest.raises(DefinitionError, match="'citation' is missing"):
        parse_definition(definition)


@pytest.mark.parametrize(
    "code",
    [None, "", "WAI-SR", "wai sr", "-wai", "wai.sr", "a" * 41, 12, "skala-ç"],
)
def test_definition_with_a_bad_code_is_refused(definition, code):
    if code is None:
        del definition["code"]
    else:
        definition["code"] = code

    with pytest.raises(DefinitionError, match="'code' must be a short code"):
        parse_definition(definition)


def test_definition_with_a_40_character_code_is_accepted(definition):
    definition["code"] = "a" * 40

    assert parse_definition(definition).code == "a" * 40


@pytest.mark.parametrize("data", [[], "wai-sr", None])
def test_definition_that_is_not_an_object_is_refused(data):
    with pytest.raises(DefinitionError, match="a definition must be a JSON object"):
        parse_definition(data)


# --- Files and directories ----------------------------------------------------------


def test_broken_json_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"code": "broken", ', encoding="utf-8")

    with pytest.raises(DefinitionError, match=re.escape(f"{path}: cannot be read as JSON")):
        load_definition(path)


def test_invalid_definition_file_is_refused_naming_the_file_and_the_problem(tmp_path):
    data = minimal_definition()
    del data["citation"]
    path = tmp_path / "mini.json"
    write_json(path, data)

    with pytest.raises(DefinitionError, match=re.escape(f"{path}: 'citation' is missing")):
        load_definition(path)


def test_two_files_with_one_code_in_one_directory_are_refused(tmp_path):
    shutil.copy(BUILT_IN_DIRECTORY / "wai-sr.json", tmp_path / "a.json")
    shutil.copy(BUILT_IN_DIRECTORY / "wai-sr.json", tmp_path / "b.json")

    with pytest.raises(
        DefinitionError,
        match=re.escape(f"{tmp_path / 'b.json'}: code 'wai-sr' is already used by"),
    ):
        load_directories([tmp_path])


def test_later_directory_file_with_same_code_replaces_the_built_in(tmp_path):
    data = json.loads((BUILT_IN_DIRECTORY / "wai-sr.json").read_text(encoding="utf-8"))
    data["version"] = "2.0-school"
    write_json(tmp_path / "wai-sr.json", data)

    instruments = load_directories([BUILT_IN_DIRECTORY, tmp_path])

    assert instruments["wai-sr"].version == "2.0-school"
    # The other shipped instruments are still there, unchanged.
    assert instruments["amas"].version == "1.0"
    assert set(instruments) == {"wai-sr", "amas", "service-evaluation"}


def test_later_directory_file_with_a_new_code_adds_an_instrument(tmp_path):
    write_json(tmp_path / "mini.json", minimal_definition())

    instruments = load_directories([BUILT_IN_DIRECTORY, tmp_path])

    assert set(instruments) == {"wai-sr", "amas", "service-evaluation", "mini"}


@pytest.mark.parametrize("missing_code", REQUIRED_CODES)
def test_directories_without_a_required_instrument_are_refused(tmp_path, missing_code):
    for file_name, (code, *_) in SHIPPED.items():
        if code != missing_code:
            shutil.copy(BUILT_IN_DIRECTORY / file_name, tmp_path / file_name)

    with pytest.raises(DefinitionError, match=f"no definition has the code '{missing_code}'"):
        load_directories([tmp_path])


def test_required_codes_are_wai_sr_and_amas():
    assert set(REQUIRED_CODES) == {"wai-sr", "amas"}


def test_missing_directory_is_refused_naming_it(tmp_path):
    missing = tmp_path / "nowhere"

    with pytest.raises(
        DefinitionError, match=re.escape(f"{missing}: instrument directory does not exist")
    ):
        load_directories([BUILT_IN_DIRECTORY, missing])


# --- The registry Django loads at start-up --------------------------------------------


@pytest.fixture
def restore_registry(settings):
    yield settings
    settings.INSTRUMENT_DIRS = []
    registry_load()


def test_a_schools_broken_file_stops_start_up_naming_it(restore_registry, tmp_path):
    definition = minimal_definition()
    definition["subscales"][0]["items"] = [1, 7]
    write_json(tmp_path / "school-scale.json", definition)
    restore_registry.INSTRUMENT_DIRS = [str(tmp_path)]

    with pytest.raises(DefinitionError, match=r"school-scale\.json: subscale 'first' names item 7"):
        registry_load()


def test_a_schools_own_instrument_can_be_scheduled_by_counselors(restore_registry, tmp_path):
    write_json(tmp_path / "mini.json", minimal_definition())
    restore_registry.INSTRUMENT_DIRS = [str(tmp_path)]
    registry_load()

    assert get_instrument("mini").version == "1.0"
    codes = [code for code, _label in ScheduleForm().fields["instrument"].choices]
    assert codes == ["amas", "mini", "wai-sr"]  # the optional evaluation is not scheduled


def test_a_scale_item_cannot_be_made_optional(definition):
    definition["items"][1]["required"] = False
    with pytest.raises(DefinitionError, match="item 2: a scale item is always required"):
        parse_definition(definition)
