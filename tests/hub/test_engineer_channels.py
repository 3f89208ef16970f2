"""A motivated engineer reads every channel the hub gives them; identifiers planted in every
free text soldiers and reviewers write must reach none of them.

Channels read here: the feedback in JSON, CSV and Parquet (every part), findings, decisions,
the prototype page and the engineer page. The live feed carries no text (test_feed), the
telemetry index and messages no text (test_engineer_views).
"""

import io
import itertools

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.models import OrgKind, Role
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

DIGITS = st.integers(1000, 9999).map(str)
NAMES = st.from_regex(r"[A-Z][a-zäöüé]{4,9}", fullmatch=True)
COORDINATES = st.sampled_from([
    "N50.{a} E4.{b}", "lat 50.{a} lon 4.{b}", "50.{a}N4.{b}E", "latitude 50.{a}",
    "N50°51.{a3}' E004°21.{b3}'", "50 51 {s}N 004 21 {s}E", "50º51'{s}\"N", "50d51m{s}sN",
    "50.{a}, 30.{b}", "36U VV {a}1 {b}2"])
PHONES = st.sampled_from(["0470/{a}{s}", "{s}-{s2}-{s3}", "+380 44 {a3} {b}"])
TIMES = st.sampled_from(["{s}14{s2}ZMAR25", "2025-03-{s}T14:{s2}:00Z", "14:{s2}", "{a}Z"])
counter = itertools.count()


def planted(draw_values: dict[str, str]) -> dict[str, str]:
    """The identifiers of one example, with random digits in place."""
    values = {key: template.format(**draw_values["digits"]) if key in (
        "coordinate", "phone", "time") else template
        for key, template in draw_values.items() if key != "digits"}
    return values


@st.composite
def identifiers(draw: st.DrawFn) -> dict[str, str]:
    a, b = draw(DIGITS), draw(DIGITS)
    day = draw(st.integers(10, 28))
    digits = {"a": a, "b": b, "a3": a[:3], "b3": b[:3], "s": str(day),
              "s2": str(draw(st.integers(10, 59))), "s3": str(draw(st.integers(10, 59)))}
    name = draw(NAMES)
    return planted({"digits": digits, "name": name, "callsign": f"{draw(NAMES).upper()}-{day}",
                    "coordinate": draw(COORDINATES), "phone": draw(PHONES),
                    "time": draw(TIMES), "words": f"///{name.lower()}.home.raft"})


def _text(secret: dict[str, str]) -> str:
    return (f"Report: Sgt {secret['name']} ({secret['callsign']}) rang {secret['phone']} "
            f"from {secret['coordinate']} at {secret['time']}, then {secret['words']}.")


def _world(client, make_user, make_org, secret: dict[str, str]):
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name=f"Hornet{next(counter)}")
    version = new_version(client, engineer, prototype["id"])
    unit = make_org(OrgKind.unit, region="Kharkiv")
    soldiers = [make_user(Role.soldier, unit) for _ in range(5)]
    for soldier in soldiers:
        trial = new_trial(client, soldier, version["id"], notes=_text(secret))
        add_engagements(client, soldier, trial["id"], [engagement(), engagement(outcome="miss")])
        client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
            "effectiveness": 4, "ease_of_use": 2, "reliability": 3, "text": _text(secret)})
    client.post("/api/v1/findings", headers=auth(soldiers[0]), json={
        "prototype_id": prototype["id"], "severity": "low", "title": _text(secret)[:200],
        "description": _text(secret)})
    client.post(f"/api/v1/prototypes/{prototype['id']}/decisions", headers=auth(reviewer),
                json={"to_status": "admitted", "rationale": _text(secret),
                      "conditions": {"notes": _text(secret), "radio_bands": [_text(secret)]}})
    return engineer, prototype


def _everything_an_engineer_reads(client, engineer, prototype) -> str:
    headers = auth(engineer)
    base = f"/api/v1/prototypes/{prototype['id']}"
    texts = [client.get(f"{base}/feedback", headers=headers).text,
             client.get("/api/v1/findings", headers=headers).text,
             client.get(f"{base}/decisions", headers=headers).text]
    for part in ("engagements", "reports", "telemetry"):
        texts.append(client.get(f"{base}/feedback", headers=headers,
                                params={"format": "csv", "part": part}).text)
        parquet = client.get(f"{base}/feedback", headers=headers,
                             params={"format": "parquet", "part": part}).content
        texts.append(pd.read_parquet(io.BytesIO(parquet)).to_csv())
    login = client.post("/login", data={"username": engineer.name, "password": PASSWORD},
                        follow_redirects=False)
    assert login.status_code == 303  # the session cookie is now in the client's jar
    pages = [client.get(f"/prototypes/{prototype['id']}"), client.get("/engineer")]
    assert [page.status_code for page in pages] == [200, 200]
    texts += [page.text for page in pages]
    return "\n".join(texts)


@given(secret=identifiers())
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_planted_identifiers_reach_no_channel_an_engineer_reads(client, make_user, make_org,
                                                               secret) -> None:
    engineer, prototype = _world(client, make_user, make_org, secret)
    seen = _everything_an_engineer_reads(client, engineer, prototype)
    assert "[name]" in seen and "[position]" in seen  # the texts did arrive, scrubbed
    for kind, token in secret.items():
        pieces = [token, *(piece for piece in token.split() if len(piece) >= 5)]
        for piece in pieces:
            assert piece not in seen, f"{kind} {piece!r} reached an engineer"
    assert secret["name"].lower() not in seen.lower()
