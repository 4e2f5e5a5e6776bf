"""CatBoost models saved with `save_model` in its own format (`.cbm`): describe at publish,
load and predict at serve (`pip install 'stream-scorer[catboost]'`)."""
