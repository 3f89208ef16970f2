"""The pages' catalogues: every message of the soldier's pages, log-in and their errors has a
translation in English, French, Dutch and Ukrainian, with the same placeholders."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import Request

from hub.pages import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "hub" / "pages" / "locales"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _marked_in_sources() -> set[str]:
    """What the code and templates mark for translation today (as the catalogues' update does)."""
    with open(LOCALES / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "_n": None, "gettext": None}
    return {message for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords)}


def _catalogue(language: str) -> dict[str, str]:
    with open(i18n.catalogue_path(language), "rb") as source:
        catalogue = read_po(source)
    assert not [m.id for m in catalogue if m.id and m.fuzzy], f"{language}: fuzzy entries"
    return {m.id: m.string for m in catalogue if m.id}


def test_every_message_has_a_translation_in_all_four_catalogues() -> None:
    marked = _marked_in_sources()
    assert len(marked) > 80  # the extraction found the pages' messages
    assert set(i18n.LANGUAGES) == {"en", "fr", "nl", "uk"}
    for language in i18n.LANGUAGES:
        catalogue = _catalogue(language)
        assert sorted(marked - set(catalogue)) == [], f"{language}: untranslated"
        assert sorted(set(catalogue) - marked) == [], f"{language}: no longer used"
        empty = [message for message, translated in catalogue.items() if not translated.strip()]
        assert empty == [], f"{language}: empty translations"
        for message, translated in catalogue.items():
            assert (sorted(PLACEHOLDER.findall(translated))
                    == sorted(PLACEHOLDER.findall(message))), (language, message)
            assert "%" not in translated  # the pages' gettext formats with %


def test_translations_differ_from_english_where_words_differ() -> None:
    for language, login in (("fr", "Se connecter"), ("nl", "Aanmelden"), ("uk", "Увійти")):
        assert i18n.TRANSLATIONS[language].gettext("Log in") == login
    assert i18n.TRANSLATIONS["en"].gettext("Log in") == "Log in"


def _request(query: str = "", **headers: str) -> Request:
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "headers": raw, "query_string": query.encode()})


def test_the_chosen_language_then_the_browsers_then_english() -> None:
    assert i18n.language_of(_request()) == "en"
    assert i18n.language_of(_request(accept_language="uk-UA,uk;q=0.9,en;q=0.5")) == "uk"
    assert i18n.language_of(_request(accept_language="de-DE, fr-BE;q=0.5, nl;q=0.8")) == "nl"
    assert i18n.language_of(_request(accept_language="de, ru;q=0.9")) == "en"
    assert i18n.language_of(_request(accept_language="fr;q=0, nl;q=oops")) == "en"
    chosen = _request(accept_language="fr", cookie=f"{i18n.COOKIE}=nl")
    assert i18n.language_of(chosen) == "nl"
    assert i18n.language_of(_request(accept_language="fr", cookie=f"{i18n.COOKIE}=xx")) == "fr"
    asked = _request("lang=uk", accept_language="fr", cookie=f"{i18n.COOKIE}=nl")
    assert i18n.language_of(asked) == "uk"
