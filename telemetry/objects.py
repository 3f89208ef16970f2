"""Where bulk telemetry is kept: a folder on the local disk, or an S3-compatible bucket.

Both answer the same small set of operations on keys (`a/b/c.parquet`). The one that makes
several writers safe is `create`: it stores an object only if its key is still free, and says
whether it did. On a disk that is a hard link of a fully written, fsynced temporary file (the
link fails if the name exists); on S3 it is a PUT with `If-None-Match: *` (412 if the key
exists), through obstore. S3 credentials, region and endpoint come from the standard AWS
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL).
"""

import os
import secrets
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Protocol

import obstore
from obstore.exceptions import AlreadyExistsError, BaseError
from obstore.store import S3Store

_pool = ThreadPoolExecutor(16, thread_name_prefix="objects")  # small objects: many in flight
STORAGE_ERRORS = (OSError, BaseError)  # what a failing folder or bucket raises


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified: datetime


class Storage(Protocol):
    url: str

    def put(self, key: str, data: bytes) -> None:
        """Store durably, replacing what the key held."""

    def create(self, key: str, data: bytes) -> bool:
        """Store durably only if the key is free; False (and nothing written) if it is not."""

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str, *, after: str | None = None) -> list[Entry]:
        """Keys under `prefix` (a folder, ending in /), in order; only those after `after`."""

    def delete(self, keys: Iterable[str]) -> None: ...

    def delete_folder(self, prefix: str) -> None: ...

    def adopt(self, folder: Path, prefix: str) -> None:
        """Move a local folder's files under `prefix` (which must hold nothing)."""

    def path_of(self, key: str) -> str:
        """The key as Polars names it: a local path or an s3:// URL."""

    def reader_options(self) -> dict[str, str] | None:
        """What Polars needs besides the AWS variables to read `path_of` names."""


def get_many(storage: Storage, keys: list[str]) -> list[bytes]:
    """Fetch many objects at once (a bucket answers each in a round trip)."""
    if len(keys) < 2:
        return [storage.get(key) for key in keys]
    return list(_pool.map(storage.get, keys))


def put_many(storage: Storage, objects: dict[str, bytes]) -> None:
    """Store many objects at once; returns when all are durable."""
    list(_pool.map(lambda item: storage.put(*item), objects.items()))


@cache
def storage_at(url: str) -> "Storage":
    """`s3://bucket/prefix`, or a local folder (a path or `file://` URL)."""
    if url.startswith("s3://"):
        return BucketStorage(url)
    return DiskStorage(Path(url.removeprefix("file://")))


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DiskStorage:
    """Keys as files under a folder; every write is fsynced (file, then its folder) before it
    returns, so a power cut loses nothing that was reported stored."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = str(self.root)

    def _written(self, key: str, data: bytes) -> tuple[Path, Path]:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return path, temporary

    def put(self, key: str, data: bytes) -> None:
        path, temporary = self._written(key, data)
        os.replace(temporary, path)
        _fsync(path.parent)

    def create(self, key: str, data: bytes) -> bool:
        path, temporary = self._written(key, data)
        try:
            os.link(temporary, path)  # atomic, and refuses an existing name
        except FileExistsError:
            return False
        finally:
            temporary.unlink()
        _fsync(path.parent)
        return True

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def list(self, prefix: str, *, after: str | None = None) -> list[Entry]:
        found = []
        for folder, _, names in os.walk(self.root / prefix):
            for name in names:
                path = Path(folder) / name
                key = path.relative_to(self.root).as_posix()
                if name.startswith(".") or (after is not None and key <= after):
                    continue  # a write in progress, or listed before
                stat = path.stat()
                found.append(Entry(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return sorted(found, key=_key)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)

    def delete_folder(self, prefix: str) -> None:
        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def adopt(self, folder: Path, prefix: str) -> None:
        target = self.root / prefix
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, target)
        except OSError:  # another file system: copy, each file written durably
            _copy_in(self, folder, prefix)
            return
        _fsync(target.parent)

    def path_of(self, key: str) -> str:
        return str(self.root / key)

    def reader_options(self) -> dict[str, str] | None:
        return None


class BucketStorage:
    """Keys as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph…)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        # http is only used when AWS_ENDPOINT_URL says http (a MinIO on a private network)
        self.store = S3Store.from_url(self.url, client_options={"allow_http": True})

    def put(self, key: str, data: bytes) -> None:
        obstore.put(self.store, key, data)

    def create(self, key: str, data: bytes) -> bool:
        try:
            obstore.put(self.store, key, data, mode="create")
        except AlreadyExistsError:
            return False
        return True

    def get(self, key: str) -> bytes:
        return obstore.get(self.store, key).bytes().to_bytes()

    def list(self, prefix: str, *, after: str | None = None) -> list[Entry]:
        return [Entry(item["path"], item["size"], item["last_modified"])
                for chunk in obstore.list(self.store, prefix, offset=after)
                for item in chunk]

    def delete(self, keys: Iterable[str]) -> None:
        obstore.delete(self.store, list(keys))

    def delete_folder(self, prefix: str) -> None:
        self.delete(entry.key for entry in self.list(prefix))

    def adopt(self, folder: Path, prefix: str) -> None:
        _copy_in(self, folder, prefix)
        shutil.rmtree(folder, ignore_errors=True)

    def path_of(self, key: str) -> str:
        return f"{self.url}/{key}"

    def reader_options(self) -> dict[str, str] | None:
        return {"aws_allow_http": "true"}


def _key(entry: Entry) -> str:
    return entry.key


def _copy_in(storage: Storage, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        storage.put(f"{prefix}{path.relative_to(folder).as_posix()}", path.read_bytes())
