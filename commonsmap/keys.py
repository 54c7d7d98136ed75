"""API keys: who a request comes from, stored in the atlas as hashes only.

A key is shown once, when it is made: ``cm_<key id>_<secret>``. The atlas keeps the key id,
the SHA-256 of the secret (the secret is 256 random bits, so a plain hash is as strong as a
slow one), the role and parties it stands for, a name, and when it was made. A stolen atlas
file therefore gives no working key. Keys live in the atlas's metadata, which no export,
map or API response shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commonsmap.atlas.codec import format_datetime, utc_now
from commonsmap.errors import InvalidInputError, NotFoundError
from commonsmap.privacy import Viewer
from commonsmap.vocabularies import ViewerRole

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

KEY_PREFIX = "api_key:"  # one of privacy.SECRET_METADATA_PREFIXES: never shown
"""Metadata entries holding keys: ``api_key:<key id>``."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key: everything but the secret."""

    key_id: str
    role: str
    parties: tuple[str, ...]
    name: str
    created: str

    def viewer(self) -> Viewer:
        """The viewer requests with this key act as."""
        return Viewer(ViewerRole(self.role), frozenset(self.parties), self.name)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_key(atlas: Atlas, role: str, *, parties: tuple[str, ...] | list[str] = (), name: str) -> str:
    """Make a key for ``role`` (and its parties), store its hash, and return the key itself.

    Parameters
    ----------
    atlas : Atlas
        Where the key is kept.
    role : str
        ``signed_in``, ``member``, ``custodian`` or ``admin``.
    parties : sequence of str
        Ids of the parties a member or custodian acts for; they must exist in the atlas.
    name : str
        Who holds the key (recorded as the author of its writes).

    Returns
    -------
    str
        The key, shown only now.
    """
    try:
        parsed = ViewerRole(ViewerRole.parse(role))
    except ValueError as exc:
        raise InvalidInputError(f"unknown role {role!r}; use signed_in, member, custodian or admin") from exc
    if parsed is ViewerRole.ANONYMOUS:
        raise InvalidInputError("anonymous needs no key")
    if not name.strip():
        raise InvalidInputError("a key needs the name of who holds it")
    missing = sorted(set(parties) - atlas.store.existing_ids("parties", list(parties))) if parties else []
    if missing:
        raise InvalidInputError(f"no parties {missing} in the atlas")
    Viewer(parsed, frozenset(parties))  # a member or custodian needs parties
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = {"hash": _digest(secret), "role": parsed.value, "parties": sorted(parties), "name": name.strip(),
              "created": format_datetime(utc_now())}
    atlas.store.set_metadata({KEY_PREFIX + key_id: json.dumps(record)})
    return f"cm_{key_id}_{secret}"


def _stored(metadata: dict[str, str]) -> dict[str, dict[str, object]]:
    return {k[len(KEY_PREFIX):]: json.loads(v) for k, v in metadata.items() if k.startswith(KEY_PREFIX) and v}


def list_keys(atlas: Atlas) -> list[ApiKey]:
    """The atlas's keys, without their hashes."""
    return [ApiKey(key_id, str(r["role"]), tuple(r["parties"]), str(r["name"]), str(r["created"]))  # type: ignore[arg-type]
            for key_id, r in sorted(_stored(atlas.metadata).items())]


def revoke_key(atlas: Atlas, key_id: str) -> None:
    """Remove a key: requests with it are anonymous from now on."""
    if key_id not in _stored(atlas.metadata):
        raise NotFoundError(f"no key {key_id!r}")
    atlas.store.set_metadata({KEY_PREFIX + key_id: ""})


def verify_key(metadata: dict[str, str], key: str) -> ApiKey | None:
    """The stored key ``key`` is, or None when it is malformed, unknown or wrong."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "cm":
        return None
    record = _stored(metadata).get(parts[1])
    if record is None or not hmac.compare_digest(str(record["hash"]), _digest(parts[2])):
        return None
    return ApiKey(parts[1], str(record["role"]), tuple(record["parties"]), str(record["name"]),  # type: ignore[arg-type]
                  str(record["created"]))
