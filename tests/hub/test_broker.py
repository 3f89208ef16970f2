"""The replicas' broker: PostgreSQL LISTEN/NOTIFY between two brokers (as two replicas hold
them), and the in-process one for SQLite."""

import asyncio

import pytest

from hub.broker import InProcess, PostgresBroker, broker_for


def test_sqlite_hubs_deliver_in_process_and_postgres_needs_postgresql() -> None:
    assert isinstance(broker_for("auto", "sqlite:///hub.db"), InProcess)
    assert isinstance(broker_for("process", "postgresql+psycopg://h/db"), InProcess)
    broker = broker_for("auto", "postgresql+psycopg://user:pw@db:5432/hub")
    assert isinstance(broker, PostgresBroker)
    assert broker.conninfo == "postgresql://user:pw@db:5432/hub"
    with pytest.raises(ValueError, match="needs a PostgreSQL"):
        broker_for("postgres", "sqlite:///hub.db")


@pytest.fixture
def postgres(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (SOLDIERSLAB_DATABASE_URL)")
    return database_url


async def _until(condition, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_a_notice_reaches_the_other_replica_once_and_not_its_sender(postgres) -> None:
    a, b = broker_for("postgres", postgres), broker_for("postgres", postgres)
    heard: dict[str, list] = {"a": [], "b": []}
    a.on("feed", lambda key, body: heard["a"].append((key, body)))
    b.on("feed", lambda key, body: heard["b"].append((key, body)))
    b.on("close", lambda key, body: heard["b"].append((key, body)))
    await a.start()
    await b.start()
    try:
        a.send("feed", 7, {"event": "report"})
        a.send("close", "token:abc", {"reason": "logged out"})
        await _until(lambda: len(heard["b"]) == 2)
        await asyncio.sleep(0.2)  # time for anything extra or echoed to arrive
    finally:
        await a.stop()
        await b.stop()
    assert heard == {"a": [], "b": [(7, {"event": "report"}),
                                    ("token:abc", {"reason": "logged out"})]}


async def test_a_burst_of_live_positions_carries_the_newest_per_trial(postgres) -> None:
    a, b = broker_for("postgres", postgres), broker_for("postgres", postgres)
    heard: list = []
    b.on("live", lambda key, body: heard.append(("live", key, body["n"])))
    b.on("feed", lambda key, body: heard.append(("feed", key, body["n"])))
    await a.start()
    await b.start()
    try:
        for n in range(3):  # queued before the sender wakes: one burst, one transaction
            a.send("live", 1, {"n": n})
            a.send("feed", 1, {"n": n})
        a.send("live", 2, {"n": 9})
        await _until(lambda: len(heard) == 5)
    finally:
        await a.stop()
        await b.stop()
    assert heard == [("feed", 1, 0), ("feed", 1, 1), ("live", 1, 2), ("feed", 1, 2),
                     ("live", 2, 9)]
