import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.cli import app as cli
from sandbox import audit
from sandbox.models import AuditEntry, Prototype, Role
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version


def entries(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def test_writes_are_audited_with_who_and_what(client, make_user, session) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    [entry] = entries(session)
    assert (entry.action, entry.target) == ("create prototype", f"prototype:{prototype['id']}")
    assert (entry.actor_id, entry.actor_role) == (engineer.id, "engineer")
    assert entry.request == "POST /api/v1/prototypes"
    assert entry.source == "testclient"
    assert audit.verify(session).ok


def test_raw_trial_reads_are_audited(client, make_user, session) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    reviewer = make_user(Role.reviewer)
    client.get(f"/api/v1/trials/{trial['id']}", headers=auth(reviewer))
    last = entries(session)[-1]
    assert (last.action, last.target, last.actor_id) == ("read raw", f"trial:{trial['id']}",
                                                         reviewer.id)


def test_refusals_are_audited_without_leaking(client, make_user, session) -> None:
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    prototype = new_prototype(client, theirs)
    response = client.get(f"/api/v1/prototypes/{prototype['id']}", headers=auth(mine))
    assert response.status_code == 404
    client.get("/api/v1/prototypes", headers={"Authorization": "Bearer forged"})
    refused = [e for e in entries(session) if e.action == "refused"]
    assert [(e.actor_id, e.outcome) for e in refused] == [(mine.id, "404"), (None, "401")]
    assert refused[1].request == "GET /api/v1/prototypes"


def test_if_the_audit_entry_fails_the_write_is_refused(client, make_user, session,
                                                       monkeypatch) -> None:
    engineer = make_user(Role.engineer)

    def broken(*_args, **_kwargs):
        raise audit.AuditUnavailable("disk full")

    monkeypatch.setattr(audit, "append", broken)
    response = client.post("/api/v1/prototypes", headers=auth(engineer),
                           json={"name": "Hornet", "kind": "interceptor_drone"})
    assert response.status_code == 503
    assert session.exec(select(Prototype)).all() == []


def test_if_the_audit_entry_fails_raw_data_is_not_released(client, make_user, session,
                                                          monkeypatch) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"], notes="secret notes")

    def broken(*_args, **_kwargs):
        raise audit.AuditUnavailable("disk full")

    monkeypatch.setattr(audit, "append", broken)
    response = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(soldier))
    assert response.status_code == 503
    assert "secret notes" not in response.text


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_changes_the_audit_log_through_the_api(client, make_user, method) -> None:
    response = client.request(method, "/api/v1/audit", headers=auth(make_user(Role.admin)),
                              json={})
    assert response.status_code == 405


@pytest.mark.parametrize("role", [Role.soldier, Role.engineer])
def test_only_reviewers_and_admins_read_the_audit_log(client, make_user, role) -> None:
    assert client.get("/api/v1/audit", headers=auth(make_user(role))).status_code == 403
    assert client.get("/api/v1/audit/verify", headers=auth(make_user(role))).status_code == 403


def _five_entries(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    for index in range(5):
        new_prototype(client, engineer, name=f"Proto {index}")


TAMPERING = {
    "edited": ("UPDATE audit_entry SET target = 'prototype:999' WHERE seq = 3", 3),
    "deleted": ("DELETE FROM audit_entry WHERE seq = 2", 3),
    "deleted newest": ("DELETE FROM audit_entry WHERE seq = 5", 5),
    "inserted": ("INSERT INTO audit_entry (id, seq, at, actor_role, action, target, request, "
                 "source, outcome, prev_hash, hash) SELECT 100, 100, at, actor_role, action, "
                 "target, request, source, outcome, prev_hash, hash FROM audit_entry "
                 "WHERE seq = 4", 100),
    "reordered": ("UPDATE audit_entry SET seq = -1 WHERE seq = 2; "
                  "UPDATE audit_entry SET seq = 2 WHERE seq = 3; "
                  "UPDATE audit_entry SET seq = 3 WHERE seq = -1", 3),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_audit_verify_names_the_first_bad_entry(client, make_user, session, engine, kind,
                                                monkeypatch, settings) -> None:
    _five_entries(client, make_user)
    assert audit.verify(session).ok
    statement, first_bad = TAMPERING[kind]
    with engine.begin() as connection:
        for part in statement.split("; "):
            connection.execute(text(part))
    session.expire_all()
    check = audit.verify(session)
    assert not check.ok
    assert check.first_bad_seq == first_bad
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {first_bad}" in result.output


def test_audit_verify_passes_an_intact_chain(client, make_user, monkeypatch, settings) -> None:
    _five_entries(client, make_user)
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output
    body = client.get("/api/v1/audit/verify", headers=auth(make_user(Role.reviewer))).json()
    assert body == {"ok": True, "entries": 5, "first_bad_seq": None, "reason": ""}
