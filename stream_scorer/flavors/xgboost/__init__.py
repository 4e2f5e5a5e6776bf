"""XGBoost boosters saved with `Booster.save_model` as JSON (`.json`) or UBJSON (`.ubj`):
describe at publish, load and predict at serve (`pip install 'stream-scorer[xgboost]'`)."""
