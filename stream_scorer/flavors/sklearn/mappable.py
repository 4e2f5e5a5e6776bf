"""Big joblib artefacts stored uncompressed, so that workers can memory-map their arrays.

joblib maps the numpy arrays of an uncompressed file only (`mmap_mode`); a compressed one is
decompressed into every process that loads it.
"""

import io

STORED_UNCOMPRESSED = "stored_uncompressed"
"""Manifest `extra` key: publish re-saved a compressed joblib artefact uncompressed."""
_PICKLE_PROTOCOL_2_OR_LATER = b"\x80"
"""How an uncompressed joblib file starts; compressed ones start with their codec's magic."""


def mappable_artefact(
    model: object, payload: bytes, fmt: str, threshold_bytes: int
) -> tuple[bytes, dict[str, bool]]:
    """The artefact to store for `model`, and what to add to its manifest's `extra`.

    A compressed joblib `payload` whose uncompressed form reaches `threshold_bytes` is
    replaced by that form (recorded as `stored_uncompressed`); anything else is kept as given.
    """
    if fmt != "joblib" or payload.startswith(_PICKLE_PROTOCOL_2_OR_LATER):
        return payload, {}
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    if buffer.tell() < threshold_bytes:
        return payload, {}
    return buffer.getvalue(), {STORED_UNCOMPRESSED: True}
