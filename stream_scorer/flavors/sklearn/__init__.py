"""scikit-learn estimators and pipelines: describe, the restricted unpickler and its
allowlist, artefact formats, memory-mappable artefacts, and the predictor."""
