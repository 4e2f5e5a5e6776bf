"""Optional manifest signing: HMAC-SHA256 with a key from `STREAM_SCORER_SIGNING_KEY`.

With the key in the environment, `ModelStore.add` signs each new manifest, over the
artefact's sha256 and the manifest's canonical JSON (sorted keys, no whitespace, without the
signature), and `load_verified` refuses a version whose manifest is unsigned or whose
signature does not match: a manifest or artefact changed by anyone without the key never
serves. Without the key nothing is signed or checked. The key is never logged.
"""

import hashlib
import hmac
import json
import os
from dataclasses import replace

from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelRejectedError

SIGNING_KEY_ENV = "STREAM_SCORER_SIGNING_KEY"


def signing_key() -> bytes | None:
    """The signing key from the environment, or None when it is unset or empty."""
    key = os.environ.get(SIGNING_KEY_ENV, "")
    return key.encode() if key else None


def signature(manifest: Manifest, artefact_sha256: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of `artefact_sha256` and `manifest`'s canonical JSON."""
    fields = json.loads(manifest.to_json())
    fields.pop("signature", None)
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    message = f"{artefact_sha256}\n{canonical}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed(manifest: Manifest) -> Manifest:
    """`manifest` with its signature when the key is set; unchanged otherwise."""
    key = signing_key()
    if key is None:
        return manifest
    return replace(manifest, signature=signature(manifest, manifest.sha256, key))


def check_signed(manifest: Manifest, artefact_sha256: str) -> None:
    """Refuse `manifest` unless it is signed with the key; no check when the key is unset.

    Raises
    ------
    ModelRejectedError
        If the key is set and the manifest is unsigned or its signature does not match.
    """
    key = signing_key()
    if key is None:
        return
    if not manifest.signature:
        msg = f"unsigned, and {SIGNING_KEY_ENV} is set: publish it again with the key"
        raise ModelRejectedError(msg)
    if not hmac.compare_digest(manifest.signature, signature(manifest, artefact_sha256, key)):
        msg = (
            "signature does not match: the manifest or artefact changed after signing, "
            "or another key signed it"
        )
        raise ModelRejectedError(msg)
