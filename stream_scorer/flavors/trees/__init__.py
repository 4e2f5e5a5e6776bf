"""What the gradient-boosted tree libraries' flavours share (XGBoost, LightGBM, CatBoost):
the booster interface each implements, categorical inputs as codes, the predictor over a
booster, and describe at publish (features checked, task, classes, canary)."""
