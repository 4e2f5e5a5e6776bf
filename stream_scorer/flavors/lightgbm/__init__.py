"""LightGBM boosters saved with `Booster.save_model` as its text model (`.txt`): describe at
publish, load and predict at serve (`pip install 'stream-scorer[lightgbm]'`)."""
