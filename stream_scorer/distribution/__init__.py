"""Artefact distribution: how executors get a verified model version's artefact.

Small artefacts are broadcast (`broadcast.BroadcastArtefact`): every Python worker
deserialises its own copy. Big ones (`model.mapped_above_mb`) go to a per-machine cache file
keyed by sha256 (`cached_file.CachedFileArtefact`, `cache.ArtefactCache`), read from the model
store itself, never broadcast, and memory-mapped by every worker of the machine.
`factory.distribute` chooses by size, once per model version, on the driver.
"""
