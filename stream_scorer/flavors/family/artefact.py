"""The artefact of a per-key model family: one file holding every key's serialised model.

Layout::

    stream-scorer family 1\\n        magic line
    <N>\\n                           length of the index, in bytes
    <index: N bytes of JSON>        {"members": {key: [offset, length, sha256(, classes)]},
                                     "fallback": [offset, length, sha256(, classes)] or null}
    <member bytes, concatenated>    offsets count from the end of the index

A reader parses the index only; a member is sliced out (no copy of the rest), checked against
its sha256 and deserialised when its key is first used. A member saved in a tree library's
own format carries the class labels its booster does not record (`classes`). The whole
file's sha256 is in the manifest and is checked before anything is read, like any artefact.
"""

import hashlib
import json
from dataclasses import dataclass

from stream_scorer.errors import ModelRejectedError
from stream_scorer.types import Scalar

MAGIC = b"stream-scorer family 1\n"
FALLBACK_KEY = "__fallback__"
"""What `model_key` says for rows the fallback model scored; no key of a family may be it."""


@dataclass(frozen=True)
class Member:
    """Where one model lies in the artefact, and its sha256."""

    offset: int
    length: int
    sha256: str
    classes: list[Scalar] | None = None
    """Class labels of a native classifier, in score order (see `members`)."""


def pack(
    members: dict[str, bytes],
    fallback: bytes | None = None,
    classes: dict[str, list[Scalar]] | None = None,
) -> bytes:
    """Return the artefact holding `members` (key -> model bytes), the optional fallback and
    the `classes` of native classifiers (key, or FALLBACK_KEY, -> labels)."""
    index: dict = {"members": {}, "fallback": None}
    blobs: list[bytes] = []
    offset = 0
    for key, blob in [*members.items(), *([(None, fallback)] if fallback is not None else [])]:
        entry = [offset, len(blob), hashlib.sha256(blob).hexdigest()]
        labels = (classes or {}).get(FALLBACK_KEY if key is None else key)
        if labels is not None:
            entry.append(labels)
        if key is None:
            index["fallback"] = entry
        else:
            index["members"][key] = entry
        blobs.append(blob)
        offset += len(blob)
    header = json.dumps(index, separators=(",", ":")).encode()
    return b"".join([MAGIC, b"%d\n" % len(header), header, *blobs])


class FamilyArtefact:
    """A parsed family artefact: its index, and member bytes on demand."""

    def __init__(self, payload: bytes) -> None:
        """Parse the index of `payload`.

        Raises
        ------
        ModelRejectedError
            If `payload` is not a family artefact or its index does not parse.
        """
        if not payload.startswith(MAGIC):
            msg = "not a model family artefact (its first line is not the family magic line)"
            raise ModelRejectedError(msg)
        try:
            size_end = payload.index(b"\n", len(MAGIC))
            size = int(payload[len(MAGIC) : size_end])
            index = json.loads(payload[size_end + 1 : size_end + 1 + size])
            self.members = {key: Member(*entry) for key, entry in index["members"].items()}
            self.fallback = Member(*index["fallback"]) if index["fallback"] else None
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"the model family's index does not parse: {exc!r}"
            raise ModelRejectedError(msg) from exc
        self._data = memoryview(payload)[size_end + 1 + size :]

    def member_bytes(self, key: str, member: Member) -> bytes:
        """The bytes of `member` (the model of `key`), after checking their sha256.

        Raises
        ------
        ModelRejectedError
            If the bytes are cut short or their sha256 differs from the index.
        """
        blob = bytes(self._data[member.offset : member.offset + member.length])
        if len(blob) != member.length or hashlib.sha256(blob).hexdigest() != member.sha256:
            msg = f"the model of key {key!r} does not match its sha256 in the family index"
            raise ModelRejectedError(msg)
        return blob
