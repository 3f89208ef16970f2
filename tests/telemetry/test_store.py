"""The store's contract, on the local disk and on an S3 server alike: batches committed once,
by whichever writer gets there first, and read back only through their manifests."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from telemetry.objects import DiskStorage, Storage, storage_at
from telemetry.store import NoTime, SessionStore
from tests.objectstore import new_bucket
from tests.telemetry.test_summary_store import straight_east

PREFIX = "session-00000001/"


@pytest.fixture(params=["disk", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "disk":
        return DiskStorage(tmp_path)
    return storage_at(new_bucket(request.getfixturevalue("s3_endpoint")))


def _timed(first_us: int, rows: int) -> dict[str, pd.DataFrame]:
    return {"ATTITUDE": pd.DataFrame({"time_us": first_us + np.arange(rows) * 100_000,
                                      "roll": np.arange(rows, dtype=np.float32)})}


def test_round_trip_keeps_types_order_and_counts(storage) -> None:
    store = SessionStore(storage, PREFIX)
    assert store.append(straight_east(3), batch=1).stored == 3 * 3 + 5 + 4
    assert store.append(straight_east(2), batch=2).stored == 2 * 3 + 5 + 4
    read = SessionStore(storage, PREFIX).read("GLOBAL_POSITION_INT")
    assert read["lat"].dtype == np.int32 and read["time_boot_ms"].dtype == np.uint32
    assert read["time_boot_ms"].tolist() == [0, 1000, 2000, 0, 1000]
    assert store.read("GLOBAL_POSITION_INT", every=2)["time_boot_ms"].tolist() == [0, 2000, 1000]
    stats = store.stats()
    assert (stats.messages, stats.batches, stats.counts["HEARTBEAT"]) == (33, 2, 10)
    assert stats.bytes_on_disk == sum(entry.size for entry in storage.list(PREFIX)
                                      if not entry.key.endswith(".json"))


def test_a_resent_batch_is_stored_once_whichever_process_gets_it(storage) -> None:
    SessionStore(storage, PREFIX).append(straight_east(3), batch=1)
    again = SessionStore(storage, PREFIX).append(straight_east(5), batch=1)  # another process
    assert again.duplicate and again.stored == 3 * 3 + 5 + 4  # the first writer's count
    assert len(SessionStore(storage, PREFIX).read("VFR_HUD")) == 3
    assert len([e for e in storage.list(PREFIX) if "VFR_HUD" in e.key]) == 1  # its parts gone


def test_writers_racing_for_one_batch_commit_it_once(storage) -> None:
    stores = [SessionStore(storage, PREFIX) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda pair: pair[1].append(straight_east(pair[0] + 1), batch=1),
                                enumerate(stores)))
    winners = [result for result in results if not result.duplicate]
    assert len(winners) == 1
    assert {result.stored for result in results} == {winners[0].stored}
    rows = (winners[0].stored - 9) // 3
    assert len(SessionStore(storage, PREFIX).read("VFR_HUD")) == rows
    assert len(storage.list(PREFIX + "VFR_HUD/")) == 1


def test_next_batches_from_many_writers_are_all_kept(storage) -> None:
    stores = [SessionStore(storage, PREFIX) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: stores[i % 4].append_next(_timed(i * 10**6, 2)),
                                range(12)))
    assert sorted(result.batch for result in results) == list(range(1, 13))
    times = SessionStore(storage, PREFIX).read("ATTITUDE")["time_us"]
    assert sorted(times.tolist()) == sorted(i * 10**6 + d for i in range(12) for d in (0, 10**5))


def test_parts_no_manifest_names_are_never_read(storage) -> None:
    store = SessionStore(storage, PREFIX)
    store.append(straight_east(3), batch=1)
    storage.put(PREFIX + "VFR_HUD/part-killed.parquet", b"a writer died before its commit")
    reopened = SessionStore(storage, PREFIX)
    assert len(reopened.read("VFR_HUD")) == 3
    assert reopened.append(straight_east(1), batch=2).stored == 1 * 3 + 5 + 4


def test_refresh_finds_a_batch_committed_late_below_the_newest(storage) -> None:
    reader = SessionStore(storage, PREFIX)
    writer = SessionStore(storage, PREFIX)
    writer.append(_timed(0, 1), batch=1)
    writer.append(_timed(3_000_000, 1), batch=3)
    assert reader.refresh().batches() == [1, 3]
    writer.append(_timed(2_000_000, 1), batch=2)  # a slow replica commits it last
    assert reader.refresh().batches() == [1, 2, 3]
    assert reader.read("ATTITUDE")["time_us"].tolist() == [0, 2_000_000, 3_000_000]


def test_a_time_window_reads_only_the_parts_it_overlaps(storage) -> None:
    store = SessionStore(storage, PREFIX)
    for batch in range(1, 4):
        store.append(_timed(batch * 10**6, 10), batch=batch)  # 1.0–1.9 s, 2.0–2.9 s, 3.0–3.9 s
    assert store.start_us() == 10**6
    window = store.read("ATTITUDE", window_us=(2_500_000, 3_200_000))
    assert window["time_us"].tolist() == [2_500_000 + i * 100_000 for i in range(7)]
    empty = store.read("ATTITUDE", window_us=(9 * 10**6, 10**7))
    assert list(empty.columns) == ["time_us", "roll"] and empty.empty
    store.append(straight_east(2), batch=4)  # times since boot only, no log time
    with pytest.raises(NoTime):
        store.read("VFR_HUD", window_us=(0, 1))


def test_create_refuses_a_taken_key_and_keeps_the_first(storage) -> None:
    assert storage.create("a/marker.json", b"first")
    assert not storage.create("a/marker.json", b"second")
    assert storage.get("a/marker.json") == b"first"
    assert [entry.key for entry in storage.list("a/")] == ["a/marker.json"]
