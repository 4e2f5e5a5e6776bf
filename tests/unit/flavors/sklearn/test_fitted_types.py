"""Typing the features of a model published without a schema: model first, canary next."""

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from stream_scorer.flavors.sklearn.fitted_types import FittedTypes, fitted_types

FRAME = pd.DataFrame(
    {
        "visits": [0, 1, 2, 1],
        "spend": [1.5, 2.0, 0.5, 3.0],
        "city": ["rome", "oslo", "rome", "oslo"],
        "member": [True, False, True, False],
        "note": ["red apple", "green car", "red car", "blue apple"],
    }
)
LABELS = [0, 1, 0, 1]


def _pipeline(*transformers) -> object:
    columns = make_column_transformer(*transformers, remainder="drop")
    return make_pipeline(columns, LogisticRegression()).fit(FRAME, LABELS)


def test_encoded_columns_take_the_dtype_of_their_categories():
    model = _pipeline(
        (OneHotEncoder(), ["visits", "city", "member"]), (StandardScaler(), ["spend"])
    )

    fitted = fitted_types(model, model.feature_names_in_)

    assert fitted.types == {
        "visits": "long",
        "spend": "double",
        "city": "string",
        "member": "boolean",
        "note": "double",
    }
    assert fitted.from_model == ["visits", "city", "member"]
    assert fitted.assumed == ["spend", "note"]


def test_a_column_fed_to_a_text_vectorizer_is_a_string():
    model = _pipeline((TfidfVectorizer(), "note"), (StandardScaler(), ["spend"]))

    assert fitted_types(model, model.feature_names_in_).types["note"] == "string"


def test_canary_rows_type_a_feature_whose_values_share_one_json_type():
    model = LinearRegression().fit(FRAME[["visits", "spend"]], [1.0, 2.0, 3.0, 4.0])
    rows = [{"visits": 3, "spend": 2.5}, {"visits": 0, "spend": 1}]

    fitted = fitted_types(model, model.feature_names_in_, rows)

    assert fitted.types == {"visits": "long", "spend": "double"}
    assert fitted.from_canary == ["visits"]


def test_the_model_outranks_the_canary_rows():
    model = _pipeline((OneHotEncoder(), ["visits"]))

    fitted = fitted_types(model, ["visits"], [{"visits": "3"}])

    assert fitted.types == {"visits": "long"}
    assert fitted.from_canary == []


def test_describe_names_each_source_and_the_assumed_doubles():
    fitted = FittedTypes(
        {"visits": "long", "city": "string", "spend": "double", "age": "double"},
        from_model=["visits"],
        from_canary=["city"],
    )

    assert fitted.describe() == (
        "typed from the model: visits:long\n"
        "typed from canary rows: city:string\n"
        "typed as double: spend, age; pass --features or --config to type them"
    )
