"""Encryption at rest: what could get someone hurt never lies in the database in clear.

A database dump (a stolen backup, a leaked replica, a curious host) must not locate a
protected person. So the values below are sealed with AES-256-GCM, under a key kept
outside the database (``PEACEMAP_DATA_KEY`` or ``PEACEMAP_DATA_KEY_FILE``), by the column
types declared here and used by the models: no call site encrypts by hand.

What is sealed, in one place (what is private is declared in api.privacy):

- exact locations (``Located.location`` of actors and observations): ``SealedPoint``;
- actors' areas of operation as drawn (the public sees ``public_area``): ``SealedArea``;
- contact details of actors: ``SealedJSON``;
- inside stored documents (revision snapshots and diffs, contribution payloads and the
  snapshots edits were made on), the value of every key in ``PRIVATE_FIELDS``, at any
  depth: ``SealedFields`` (the rest of the document stays queryable JSON);
- stored responses replayed for idempotent retries: ``SealedText``;
- the notes of flags (free text about someone in danger, often where they are):
  ``SealedNote``.

Public locations, countries and everything the public may see stay in clear: every
filter, distance, tile and count already uses them.

A sealed value is ``0x01 | len(key id) | key id | 12-byte nonce | ciphertext + tag``, with
the header and the value's purpose as associated data (a ciphertext moved to another
kind of column does not open). The key id names the key that sealed it, so keys rotate:
put a new key first, keep the old ones after it, run ``flask keys rotate`` (every value
sealed anew under the first key), then drop the old keys.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary, TypeDecorator, cast, select, tuple_, type_coerce, values
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.config import ConfigError
from api.privacy import LOGGED_FIELDS

# Keys of stored documents whose values are sealed: the fields that locate or reach a
# person, as api.privacy declares them, and the name responses give the exact point.
PRIVATE_FIELDS = frozenset({*LOGGED_FIELDS, "exact_location"})
SEALED_KEY = "$sealed"  # a sealed value inside a JSON document: {"$sealed": "<base64>"}
FORMAT = 1
NONCE_BYTES = 12
KEY_BYTES = 32
SRID = 4326
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Where development and test set-ups keep their generated key: outside the database's
# folder, git-ignored. Production names its own (and refuses to start without one).
DEVELOPMENT_KEY_FILE = Path(__file__).resolve().parent.parent / "instance" / "data.keys"


class KeyNotFound(RuntimeError):
    """A value was sealed under a key that is not configured (rotated away too early?)."""


@dataclass(frozen=True)
class Keyring:
    """The data keys by id; the first seals, all of them open."""

    keys: dict[str, bytes]

    @property
    def active(self) -> str:
        return next(iter(self.keys))

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        return {key_id: AESGCM(key) for key_id, key in self.keys.items()}

    @classmethod
    def parse(cls, spec: str, *, source: str = "PEACEMAP_DATA_KEY") -> Keyring:
        """``id:base64url-key`` entries separated by commas, spaces or lines; ``#`` comments."""
        keys: dict[str, bytes] = {}
        lines = (line.split("#", 1)[0] for line in spec.splitlines())
        for entry in (e for line in lines for e in re.split(r"[,\s]+", line) if e):
            key_id, _, encoded = entry.partition(":")
            if not _KEY_ID.match(key_id) or not encoded:
                raise ConfigError(f"{source}: each key is 'id:base64url-key' (got {key_id!r}).")
            try:
                key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError:
                raise ConfigError(f"{source}: key {key_id!r} is not base64url.") from None
            if len(key) != KEY_BYTES:
                raise ConfigError(f"{source}: key {key_id!r} must be {KEY_BYTES} bytes.")
            if key_id in keys:
                raise ConfigError(f"{source}: key id {key_id!r} appears twice.")
            keys[key_id] = key
        if not keys:
            raise ConfigError(f"{source}: no key.")
        return cls(keys)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        key_id = self.active.encode()
        header = bytes((FORMAT, len(key_id))) + key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext, header + purpose.encode())
        return header + nonce + sealed

    def open(self, sealed: bytes, purpose: str) -> bytes:
        key_id = key_id_of(sealed)
        if key_id not in self.keys:
            raise KeyNotFound(f"A value is sealed under key {key_id!r}, which is not configured.")
        header_length = 2 + len(key_id)
        header, rest = sealed[:header_length], sealed[header_length:]
        try:
            return self._ciphers[key_id].decrypt(
                rest[:NONCE_BYTES], rest[NONCE_BYTES:], header + purpose.encode()
            )
        except InvalidTag:
            raise ValueError(f"A sealed {purpose} does not open: altered or misplaced.") from None


def key_id_of(sealed: bytes) -> str:
    if len(sealed) < 2 or sealed[0] != FORMAT:
        raise ValueError("Not a sealed value.")
    return sealed[2 : 2 + sealed[1]].decode()


def generate_key(key_id: str | None = None) -> str:
    """A new key entry for PEACEMAP_DATA_KEY: ``id:base64url-key``."""
    key_id = key_id or f"k{secrets.token_hex(4)}"
    if not _KEY_ID.match(key_id):
        raise ValueError(f"Key id {key_id!r}: letters, digits, '_', '.' or '-', at most 64.")
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"


def keyring_from_config(config: dict) -> Keyring:
    """The keyring named by the configuration; development and tests without one get a
    key generated once into a git-ignored file; production refuses to start without."""
    if spec := config.get("DATA_KEY"):
        return Keyring.parse(spec)
    if path := config.get("DATA_KEY_FILE"):
        try:
            return Keyring.parse(Path(path).read_text(), source=f"PEACEMAP_DATA_KEY_FILE {path}")
        except OSError as exc:
            raise ConfigError(f"PEACEMAP_DATA_KEY_FILE {path}: {exc.strerror}.") from None
    if config.get("ENV_NAME") == "production":
        raise ConfigError(
            "Refusing to start in production without a data key: set PEACEMAP_DATA_KEY or "
            "PEACEMAP_DATA_KEY_FILE (README, Encryption at rest, says how to make one). "
            "Exact locations and contact details are encrypted with it."
        )
    path = DEVELOPMENT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("# Development data key (git-ignored). Never use it in production.\n")
            handle.write(generate_key("dev") + "\n")
    return Keyring.parse(path.read_text(), source=str(path))


# The keyring is process-wide, like the engine the column types run in: set by
# create_app (and the migrations) from the configuration.
_keyring: Keyring | None = None


def install(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def installed() -> Keyring | None:
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("No data keyring installed (api.crypto.install).")
    return _keyring


# -- column types ---------------------------------------------------------------------------


class Sealed(TypeDecorator, ABC):
    """A value sealed into ``bytea``; subclasses say how it becomes bytes."""

    impl = LargeBinary
    cache_ok = True
    purpose = "value"

    @abstractmethod
    def encode(self, value) -> bytes:
        """The value as bytes, before sealing."""

    @abstractmethod
    def decode(self, data: bytes):
        """The value back from its opened bytes."""

    def seal(self, value) -> bytes | None:
        """The sealed form of ``value`` (also for bulk loaders writing COPY rows)."""
        return None if value is None else keyring().seal(self.encode(value), self.purpose)

    def unseal(self, sealed: bytes | None):
        return None if sealed is None else self.decode(keyring().open(bytes(sealed), self.purpose))

    def process_bind_param(self, value, dialect):
        return self.seal(value)

    def process_result_value(self, value, dialect):
        return self.unseal(value)


class SealedGeometry(Sealed):
    """A private geometry: a WKBElement (or shapely geometry) in, a WKBElement out."""

    cache_ok = True
    purpose = "geometry"

    @property
    def python_type(self):
        return WKBElement

    def encode(self, value) -> bytes:
        geometry = to_shape(value) if isinstance(value, WKBElement) else value
        if not isinstance(geometry, BaseGeometry):
            raise TypeError(
                f"A private {self.purpose} must be a geometry, not {type(value).__name__}."
            )
        return wkb.dumps(geometry)

    def decode(self, data: bytes) -> WKBElement:
        return WKBElement(data, srid=SRID)


class SealedPoint(SealedGeometry):
    """An exact location."""

    cache_ok = True
    purpose = "location"


class SealedArea(SealedGeometry):
    """An area of operation as drawn (the public sees it generalised)."""

    cache_ok = True
    purpose = "area"


class SealedJSON(Sealed):
    """A JSON value; an empty one is stored as NULL (there is nothing to hide)."""

    cache_ok = True
    purpose = "contact"

    @property
    def python_type(self):
        return object

    def encode(self, value) -> bytes:
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()

    def decode(self, data: bytes):
        return json.loads(data)

    def seal(self, value) -> bytes | None:
        return super().seal(value) if value else None

    def unseal(self, sealed):
        return {} if sealed is None else super().unseal(sealed)


class SealedText(Sealed):
    cache_ok = True
    purpose = "response"

    @property
    def python_type(self):
        return str

    def encode(self, value: str) -> bytes:
        return value.encode()

    def decode(self, data: bytes) -> str:
        return data.decode()


class SealedNote(SealedText):
    cache_ok = True
    purpose = "note"


class SealedFields(TypeDecorator):
    """A JSONB document whose private keys (``PRIVATE_FIELDS``, at any depth) hold sealed
    values; the rest stays plain JSON."""

    impl = JSONB
    cache_ok = True
    purpose = "document field"

    @property
    def python_type(self):
        return dict

    def process_bind_param(self, value, dialect):
        return None if value is None else seal_document(value)

    def process_result_value(self, value, dialect):
        return None if value is None else open_document(value)


def seal_document(document):
    if isinstance(document, dict):
        return {
            key: (_sealed_json(value) if key in PRIVATE_FIELDS else seal_document(value))
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [seal_document(item) for item in document]
    return document


def open_document(document):
    if isinstance(document, dict):
        if set(document) == {SEALED_KEY}:
            sealed = base64.b64decode(document[SEALED_KEY])
            return json.loads(keyring().open(sealed, SealedFields.purpose))
        return {key: open_document(value) for key, value in document.items()}
    if isinstance(document, list):
        return [open_document(item) for item in document]
    return document


def _sealed_json(value) -> dict:
    plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    sealed = keyring().seal(plaintext, SealedFields.purpose)
    return {SEALED_KEY: base64.b64encode(sealed).decode()}


# -- rotation -------------------------------------------------------------------------------

ROTATION_BATCH = 1000
SEALED_TYPES = (Sealed, SealedFields)


def sealed_columns(metadata) -> Iterator[tuple]:
    """(table, [sealed columns]) for every table that holds sealed values."""
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, SEALED_TYPES)]
        if columns:
            yield table, columns


def reseal_all(session: Session, metadata, *, batch: int = ROTATION_BATCH) -> dict[str, int]:
    """Seal every sealed value anew under the active key (one UPDATE per batch of rows,
    by primary key; nothing else changes: no version, no timestamp). Commits per batch.
    Returns the rows rewritten per table."""
    done: dict[str, int] = {}
    for table, columns in sealed_columns(metadata):
        keys = list(table.primary_key.columns)
        last = None
        done[table.name] = 0
        while True:
            stmt = select(*keys, *columns).order_by(*keys).limit(batch)
            if last is not None:
                stmt = stmt.where(tuple_(*keys) > tuple_(*last))
            rows = session.execute(stmt).all()
            if not rows:
                break
            fresh = values(
                *(sql_column(c.name, c.type) for c in (*keys, *columns)), name="fresh"
            ).data([tuple(row) for row in rows])
            session.execute(
                table.update()
                .where(*(table.c[k.name] == fresh.c[k.name] for k in keys))
                # A batch whose values are all NULL gives an untyped VALUES column: cast.
                .values({c.name: cast(fresh.c[c.name], c.type.impl_instance) for c in columns})
            )
            session.commit()
            done[table.name] += len(rows)
            last = tuple(rows[-1][: len(keys)])
    return done


def key_ids_in_use(session: Session, metadata) -> dict[str, int]:
    """How many sealed values each key id seals, read from the raw stored bytes."""
    counts: dict[str, int] = {}
    for _table, columns in sealed_columns(metadata):
        for column in columns:
            raw = type_coerce(column, column.type.impl_instance)
            for (stored,) in session.execute(select(raw).where(column.is_not(None))):
                for key_id in _key_ids(stored):
                    counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def _key_ids(stored) -> Iterable[str]:
    if isinstance(stored, bytes | memoryview):
        yield key_id_of(bytes(stored))
    elif isinstance(stored, dict):
        if set(stored) == {SEALED_KEY}:
            yield key_id_of(base64.b64decode(stored[SEALED_KEY]))
        else:
            for value in stored.values():
                yield from _key_ids(value)
    elif isinstance(stored, list):
        for value in stored:
            yield from _key_ids(value)
