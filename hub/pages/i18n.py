"""The pages' languages: English, French, Dutch and Ukrainian from gettext catalogues.

The catalogues ship as .po text and are compiled in memory when this module is imported: a
fresh editable install has no build step that would compile .mo files, and committed .mo
binaries drift from their .po; compiling a few hundred messages takes milliseconds.
A request's language is the one asked for in the address (`?lang=fr`, the header's links),
else the one chosen before (a cookie the links set in the browser), else the browser's
Accept-Language, else English. Templates call `_()`; code calls `gettext_for(request)`.

A new message: mark it `_("…")`, then refresh the template and the four catalogues from the
project's root and translate what is new (tests/pages/test_catalogues.py names any message left
untranslated or missing):
    pybabel extract -F hub/pages/locales/babel.cfg -k _n --no-location --sort-output \
        --omit-header -o hub/pages/locales/messages.pot .
    pybabel update -i hub/pages/locales/messages.pot -d hub/pages/locales --no-location
"""

import gettext
from collections.abc import Callable
from importlib.resources import files
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LANGUAGES = {"en": "English", "fr": "Français", "nl": "Nederlands", "uk": "Українська"}
DEFAULT = "en"
COOKIE = "sl_lang"
LOCALES = files("hub") / "pages" / "locales"


def catalogue_path(language: str) -> str:
    return str(LOCALES / language / "LC_MESSAGES" / "messages.po")


def _compile(language: str) -> gettext.GNUTranslations:
    with open(catalogue_path(language), "rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


TRANSLATIONS = {language: _compile(language) for language in LANGUAGES}


def _accepted(header: str) -> list[str]:
    """Accept-Language's languages, most wanted first (`fr-BE;q=0.8` gives `fr`)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [language for *_order, language in sorted(weighted)]


def language_of(request: Request) -> str:
    for chosen in (request.query_params.get("lang", ""), request.cookies.get(COOKIE, "")):
        if chosen in LANGUAGES:
            return chosen
    wanted = _accepted(request.headers.get("accept-language", ""))
    return next((language for language in wanted if language in LANGUAGES), DEFAULT)


def gettext_for(request: Request) -> Callable[[str], str]:
    return TRANSLATIONS[language_of(request)].gettext


@pass_context
def _gettext(context: Context, message: str) -> str:
    request = context.get("request")
    return TRANSLATIONS[language_of(request) if request else DEFAULT].gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    request = context.get("request")
    language = language_of(request) if request else DEFAULT
    return TRANSLATIONS[language].ngettext(singular, plural, n)


@pass_context
def _language(context: Context) -> str:
    request = context.get("request")
    return language_of(request) if request else DEFAULT


def install(env: Environment) -> None:
    """Give the pages' shared environment `_` per request (the callables find the request in
    the template's context), the page's `language()` and the `languages` offered."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(language=_language, languages=LANGUAGES, language_cookie=COOKIE)
