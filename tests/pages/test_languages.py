"""The soldier's pages and log-in in French, Dutch and Ukrainian: the browser's language by
default, the header's switch kept in a cookie (Chromium at a phone's size)."""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from sandbox.models import Role
from tests.conftest import PASSWORD
from tests.factories import new_prototype, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_in(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """A phone whose browser asks for `locale` (its Accept-Language)."""
    contexts = []

    def open_phone(locale: str) -> Page:
        context = browser.new_context(viewport=PHONE, is_mobile=True, locale=locale)
        contexts.append(context)
        return context.new_page()
    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def soldier(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    new_version(client, engineer, new_prototype(client, engineer, name="Hornet")["id"])
    return soldier


def test_login_and_log_follow_the_browsers_language(live_url, phone_in, soldier) -> None:
    page = phone_in("fr-BE")
    page.goto(f"{live_url}/login")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.inner_text("label[for=username]") == "Nom d'utilisateur"
    assert page.inner_text("label[for=password]") == "Mot de passe"
    page.fill("#username", soldier.name)
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    assert page.inner_text("#login-error") == ("Nom d'utilisateur ou mot de passe incorrect "
                                               "(ou trop d'essais : attendez une minute).")
    shot(page, "languages-login-fr")
    log_in(page, live_url, soldier.name, PASSWORD)
    assert page.inner_text("h2") == "Consigner un essai"
    assert page.inner_text("label[for=intercept]") == "Interceptions"
    assert page.inner_text("#record") == "Enregistrer l'essai"
    page.fill("#started_at", "2099-01-01T08:00")
    page.click("#record")
    assert page.inner_text("#started_at-error").startswith(
        "2099-01-01 08:00 UTC est dans le futur")
    assert page.inner_text("#form-errors") == ("Rien n'a été enregistré : corrigez les champs "
                                               "signalés ci-dessous.")
    assert page.inner_text("#version_id-error") == "choisissez la version du prototype essayée"
    shot(page, "languages-log-fr")


def test_the_header_switch_is_kept_in_a_cookie(live_url, phone_in, soldier) -> None:
    page = phone_in("en-GB")
    page.goto(f"{live_url}/login")
    assert page.inner_text("label[for=username]") == "User name"
    page.click("#languages a[lang=nl]")
    assert page.url.endswith("/login?lang=nl")
    assert page.get_attribute("html", "lang") == "nl"
    assert page.inner_text("label[for=username]") == "Gebruikersnaam"
    shot(page, "languages-login-nl")
    log_in(page, live_url, soldier.name, PASSWORD)
    assert page.inner_text("h2") == "Een test registreren"  # the cookie outlives the log-in
    assert page.inner_text("label[for=threat_kind]") == "Dreiging"
    page.click("#languages a[lang=uk]")
    assert page.url.endswith("/log?lang=uk")
    assert page.get_attribute("html", "lang") == "uk"
    assert page.inner_text("h2") == "Записати випробування"
    assert page.inner_text("label[for=ew_resistance]") == "Стійкість до засобів РЕБ"
    assert page.inner_text("header button") == "Вийти"
    page.fill("#intercept", "many")
    page.click("#record")
    assert page.inner_text("#intercept-error") == "ціле число від 0 до 1000"
    shot(page, "languages-log-uk")
    page.goto(f"{live_url}/log")
    assert page.get_attribute("html", "lang") == "uk"


def test_a_language_asked_for_in_the_address_wins(live_url, phone_in) -> None:
    page = phone_in("fr")
    page.goto(f"{live_url}/login?lang=uk")
    assert page.inner_text("label[for=username]") == "Ім'я користувача"
    page.goto(f"{live_url}/login?lang=xx")  # unknown: the browser's language
    assert page.inner_text("label[for=username]") == "Nom d'utilisateur"
