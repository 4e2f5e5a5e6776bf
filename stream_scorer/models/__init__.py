"""Model store, artefact formats, verification and the driver-side registry."""
