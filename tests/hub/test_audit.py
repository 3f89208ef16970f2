import json
import time
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.app import create_app
from hub.cli import app as cli
from hub.db import make_engine, upgrade
from sandbox import audit, checkpoints
from sandbox.audit import Actor
from sandbox.models import AuditEntry, AuditHead, Prototype, Role
from sandbox.timeutil import as_utc
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


def _cli_env(monkeypatch, settings) -> None:
    """The CLI finds the same database, audit key and checkpoint log as the app."""
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))


def _names(settings, monkeypatch, first_bad: int, says: str) -> None:
    """`soldierslab audit verify` fails naming the entry and what was done."""
    _cli_env(monkeypatch, settings)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"broken at entry {first_bad}" in result.output
    assert says in " ".join(result.output.split())


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
    _names(settings, monkeypatch, first_bad, "")


def test_audit_verify_passes_an_intact_chain(client, make_user, monkeypatch, settings,
                                             session) -> None:
    _five_entries(client, make_user)
    audit.checkpoint(session)
    _cli_env(monkeypatch, settings)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries, 2 signed checkpoints (newest at entry 5)" in result.output
    body = client.get("/api/v1/audit/verify", headers=auth(make_user(Role.reviewer))).json()
    assert body == {"ok": True, "entries": 5, "first_bad_seq": None, "reason": "",
                    "checkpoints": 2, "checkpointed_seq": 5}


# --- what someone who can write the database but lacks the audit key might try -------------

def _chain(engine, count: int) -> None:
    with Session(engine) as session:
        for index in range(count):
            audit.append(session, actor=Actor(id=index, role="soldier"), action="read raw",
                         target=f"trial:{index}")
            session.commit()
        audit.checkpoint(session)  # as the hub does every few seconds


def _rows(connection) -> list[dict]:
    return [dict(row._mapping) for row in connection.execute(text(
        "SELECT * FROM audit_entry ORDER BY seq"))]


def _rechain_from(connection, seq: int, key: bytes | None) -> None:
    """Recompute every hash from entry `seq` on, and the head, as a forger would."""
    rows = _rows(connection)
    prev = next((row["hash"] for row in rows if row["seq"] == seq - 1), audit.GENESIS)
    for row in rows:
        if row["seq"] >= seq:
            at = row["at"]  # SQLite hands back text, PostgreSQL a naive datetime
            row["at"] = as_utc(datetime.fromisoformat(at) if isinstance(at, str) else at)
            new = audit.entry_hash(prev, row, key=key)
            connection.execute(text("UPDATE audit_entry SET prev_hash = :p, hash = :h "
                                    "WHERE id = :i"), {"p": prev, "h": new, "i": row["id"]})
            prev = new
    connection.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                       {"s": max((row["seq"] for row in rows), default=0), "h": prev})


def _truncate_newest(connection) -> None:
    connection.execute(text("DELETE FROM audit_entry WHERE seq > 5"))
    connection.execute(text("UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM "
                            "audit_entry WHERE seq = 5)"))


def _edit_and_rechain(connection) -> None:
    connection.execute(text("UPDATE audit_entry SET target = 'trial:999' WHERE seq = 3"))
    _rechain_from(connection, 3, key=None)


def _edit_and_rechain_with_a_guessed_key(connection) -> None:
    connection.execute(text("UPDATE audit_entry SET target = 'trial:999' WHERE seq = 3"))
    _rechain_from(connection, 3, key=b"a guess at the key, of the right length.")


def _delete_renumber_rechain(connection) -> None:
    connection.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    connection.execute(text("UPDATE audit_entry SET seq = seq - 1 WHERE seq > 3"))
    _rechain_from(connection, 3, key=None)


def _delete_everything(connection) -> None:
    connection.execute(text("DELETE FROM audit_entry"))
    connection.execute(text("DELETE FROM audit_head"))


def _append_forged(connection) -> None:
    head = connection.execute(text("SELECT seq, hash FROM audit_head")).one()
    fields = {"seq": head.seq + 1, "at": "2026-11-30T12:00:00+00:00", "actor_id": None,
              "actor_role": "admin", "action": "create decision", "target": "decision:1",
              "request": "POST /api/v1/prototypes/1/decisions", "source": "10.0.0.1",
              "outcome": "ok"}
    forged = audit.entry_hash(head.hash, fields, key=None)
    connection.execute(text(
        "INSERT INTO audit_entry (seq, at, actor_id, actor_role, action, target, request, "
        "source, outcome, prev_hash, hash) VALUES (:seq, '2026-11-30 12:00:00', :actor_id, "
        ":actor_role, :action, :target, :request, :source, :outcome, :prev, :hash)"),
        {**fields, "prev": head.hash, "hash": forged})
    connection.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                       {"s": head.seq + 1, "h": forged})


FORGERIES = {
    "newest 25 deleted, head moved back": (_truncate_newest, 6, "entries 6 to 30 were deleted"),
    "edited, every later hash recomputed": (_edit_and_rechain, 3, "plain SHA-256, not keyed"),
    "edited, rechained under a guessed key": (_edit_and_rechain_with_a_guessed_key, 3,
                                              "edited after it was written"),
    "deleted, renumbered, recomputed": (_delete_renumber_rechain, 3, "plain SHA-256, not keyed"),
    "every entry and the head deleted": (_delete_everything, 1, "entries 1 to 30 were deleted"),
    "forged entry appended with a valid hash": (_append_forged, 31, "plain SHA-256, not keyed"),
}


@pytest.mark.parametrize("kind", FORGERIES)
def test_audit_verify_names_rewrites_without_the_key(app, engine, session, settings,
                                                     monkeypatch, kind) -> None:
    _chain(engine, 30)
    assert audit.verify(session).ok
    tamper, first_bad, says = FORGERIES[kind]
    with engine.begin() as connection:
        tamper(connection)
    session.expire_all()
    check = audit.verify(session)
    assert (check.ok, check.first_bad_seq) == (False, first_bad), check
    assert says in check.reason
    _names(settings, monkeypatch, first_bad, says)


def test_the_api_names_the_tampering_too(client, app, engine, make_user) -> None:
    _chain(engine, 30)
    with engine.begin() as connection:
        _truncate_newest(connection)
    body = client.get("/api/v1/audit/verify", headers=auth(make_user(Role.admin))).json()
    assert (body["ok"], body["first_bad_seq"], body["checkpointed_seq"]) == (False, 6, None)
    assert "entries 6 to 30 were deleted" in body["reason"]


def test_a_forged_or_edited_checkpoint_line_is_named(app, engine, session, settings) -> None:
    _chain(engine, 3)
    log = settings.audit_checkpoint_path()
    line = json.loads(log.read_text().splitlines()[-1])
    log.write_text(log.read_text() + json.dumps({**line, "seq": 99}) + "\n")
    check = audit.verify(session)
    assert (check.ok, check.first_bad_seq) == (False, None)
    assert "line 3 of" in check.reason and "not a checkpoint signed" in check.reason


def test_a_missing_checkpoint_log_is_named(app, engine, session, settings) -> None:
    _chain(engine, 3)
    settings.audit_checkpoint_path().unlink()
    check = audit.verify(session)
    assert not check.ok and "no signed checkpoint" in check.reason


def test_checkpoints_verify_with_the_public_key_alone(app, engine, settings) -> None:
    _chain(engine, 3)
    lines = settings.audit_checkpoint_path().read_text().splitlines()
    public = checkpoints.public_key_hex(settings.audit_secret())
    assert [c.seq for c in checkpoints.read(lines, public).checkpoints] == [1, 3]
    stranger = checkpoints.public_key_hex(b"another hub's audit key, 32 chars+")
    assert checkpoints.read(lines, stranger).bad_line == 1


def test_the_key_is_not_in_the_database(app, engine, settings) -> None:
    _chain(engine, 1)
    key = settings.audit_secret().decode()
    with engine.connect() as connection:
        dump = " ".join(str(row) for table in ("audit_entry", "audit_head")
                        for row in connection.execute(text(f"SELECT * FROM {table}")))
    assert key not in dump and len(key) >= 32


def test_the_hub_checkpoints_the_newest_entries_while_it_runs(settings, engine,
                                                              session) -> None:
    settings = settings.model_copy(update={"audit_checkpoint_s": 0.05})
    with TestClient(create_app(settings, engine=engine)):
        _chain(engine, 4)
        with Session(engine) as other:
            audit.append(other, actor=Actor(role="cli"), action="late entry")
            other.commit()
        time.sleep(0.5)
    newest = checkpoints.read(settings.audit_checkpoint_path().read_text().splitlines(),
                              checkpoints.public_key_hex(settings.audit_secret())).checkpoints
    assert newest[-1].seq == 5


def test_production_refuses_to_start_without_an_audit_key(settings, engine) -> None:
    production = settings.model_copy(update={"mode": "production", "audit_key": ""})
    with pytest.raises(ValueError, match="SOLDIERSLAB_AUDIT_KEY must be set in production"):
        create_app(production, engine=engine)


def test_entries_from_before_the_key_stay_checked_and_chained(tmp_path, settings) -> None:
    """A database migrated from the unkeyed chain: old entries keep their SHA-256 hashes, new
    ones are keyed and chain onto them; rewriting the old ones still shows."""
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    upgrade(engine, "0006")
    prev = audit.GENESIS
    with engine.begin() as connection:
        for seq in (1, 2):
            fields = {"seq": seq, "at": "2026-11-01T08:00:00+00:00", "actor_id": 1,
                      "actor_role": "admin", "action": "create user", "target": f"user:{seq}",
                      "request": "", "source": "", "outcome": "ok"}
            digest = audit.entry_hash(prev, fields, key=None)
            connection.execute(text(
                "INSERT INTO audit_entry (seq, at, actor_id, actor_role, action, target, "
                "request, source, outcome, prev_hash, hash) VALUES (:seq, "
                "'2026-11-01 08:00:00', :actor_id, :actor_role, :action, :target, :request, "
                ":source, :outcome, :prev, :hash)"), {**fields, "prev": prev, "hash": digest})
            prev = digest
        connection.execute(text("UPDATE audit_head SET seq = 2, hash = :h"), {"h": prev})
    upgrade(engine)
    create_app(settings, engine=engine)
    _chain(engine, 2)
    with Session(engine) as session:
        assert session.get(AuditHead, 1).legacy_seq == 2
        assert audit.verify(session).ok
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_entry SET target = 'user:9' WHERE seq = 2"))
            _rechain_from(connection, 2, key=None)  # the old scheme, recomputed
        session.expire_all()
        check = audit.verify(session)
    engine.dispose()
    assert (check.ok, check.first_bad_seq) == (False, 3)
