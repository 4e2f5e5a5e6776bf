"""Test-side checkpoint directories, laid out as Spark writes them."""

GOOD = 'v1\n{"batchWatermarkMs":0,"batchTimestampMs":1,"conf":{}}\n{"t": {"0": 30}}'


def make_checkpoint(root, offsets=(0, 1, 2), commits=(0, 1, 2)):
    """`metadata`, `offsets/N` (source offset 30 * (N + 1)) and `commits/N` under `root`."""
    (root / "offsets").mkdir(parents=True)
    (root / "commits").mkdir()
    (root / "metadata").write_text('{"id":"x"}\n')
    for n in offsets:
        (root / "offsets" / str(n)).write_text(GOOD.replace("30", str(30 * (n + 1))))
        (root / "offsets" / f".{n}.crc").write_bytes(b"\0")
    for n in commits:
        (root / "commits" / str(n)).write_text('v1\n{"nextBatchWatermarkMs":0}')
    return root
