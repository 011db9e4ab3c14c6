"""Numeric encodings (max-abs, quantile, mixture modes, point masses): exact round trips on skewed, zero-inflated
and bimodal columns, bounds, layout, persistence, and the paper-space view the quality measures use."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from fairgen_core.config import DEFAULT_ENCODING, EncoderConfig, GeneratorConfig
from fairgen_core.data.encoding import TabularEncoder
from fairgen_core.data.numeric import Modes, Quantile, point_mass
from fairgen_core.data.schema import ColumnKind, infer_schema
from fairgen_core.errors import FairGenError

ENCODINGS = [EncoderConfig(numeric=numeric, point_mass=share)
             for numeric, share in itertools.product(("max-abs", "quantile", "modes"), (None, 0.1))]


def _frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Skewed, zero-inflated, bimodal and integer columns, a zero-inflated one with missing values, a category."""
    rng = np.random.default_rng(seed)
    gain = np.where(rng.random(n) < 0.9, 0, np.rint(rng.lognormal(8, 1, n))).astype(np.int64)
    bimodal = np.where(rng.random(n) < 0.4, rng.normal(-5, 0.5, n), rng.normal(20, 3, n))
    hours = np.where(rng.random(n) < 0.45, 40, rng.integers(1, 99, n)).astype(np.int64)
    with_gaps = np.where(rng.random(n) < 0.3, 0.0, rng.exponential(3.0, n))
    with_gaps[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "skewed": rng.lognormal(10, 1.5, n), "gain": gain, "bimodal": bimodal, "hours": hours,
        "gaps": with_gaps, "colour": rng.choice(["red", "green", "blue"], n),
    })


def _encoder(frame: pd.DataFrame, config: EncoderConfig) -> TabularEncoder:
    schema = infer_schema(frame).with_kinds({c: ColumnKind.NUMERIC for c in frame.columns if c != "colour"})
    return TabularEncoder(schema, config=config).fit(frame)


@pytest.mark.parametrize("config", ENCODINGS, ids=lambda c: f"{c.numeric}-{c.point_mass}")
def test_every_encoding_decodes_training_values_exactly_and_integers_stay_integers(config: EncoderConfig) -> None:
    frame = _frame()
    encoder = _encoder(frame, config)
    encoded = encoder.transform(frame)
    assert encoded.dtype == np.float32 and encoded.shape == (len(frame), encoder.n_features)
    decoded = encoder.inverse_transform(encoded)
    for column in frame.columns:
        assert decoded[column].dtype == frame[column].dtype, column
    for column in ("gain", "hours"):
        np.testing.assert_array_equal(decoded[column], frame[column], err_msg=column)
    for column in ("skewed", "bimodal", "gaps"):  # float32 encoded values: within 1e-5 of the column's range
        span = frame[column].max() - frame[column].min()
        np.testing.assert_allclose(decoded[column], frame[column], rtol=1e-6, atol=1e-5 * span, equal_nan=True,
                                   err_msg=column)
    pd.testing.assert_series_equal(decoded["colour"], frame["colour"])


@pytest.mark.parametrize("config", ENCODINGS, ids=lambda c: f"{c.numeric}-{c.point_mass}")
def test_any_generator_output_decodes_within_the_training_range(config: EncoderConfig) -> None:
    frame = _frame()
    encoder = _encoder(frame, config)
    noise = np.random.default_rng(1).normal(0, 3, (2000, encoder.n_features)).astype(np.float32)
    decoded = encoder.inverse_transform(noise)
    for column in ("skewed", "gain", "bimodal", "hours", "gaps"):
        present = decoded[column].dropna()
        assert present.between(frame[column].min(), frame[column].max()).all(), column
    assert (np.mod(decoded[["gain", "hours"]].to_numpy(float), 1) == 0).all()
    assert set(decoded["colour"]) <= set(frame["colour"])


@pytest.mark.parametrize("config", ENCODINGS, ids=lambda c: f"{c.numeric}-{c.point_mass}")
def test_layout_follows_the_encoding_and_tiles_the_matrix(config: EncoderConfig) -> None:
    encoder = _encoder(_frame(), config)
    layout = encoder.layout
    assert layout[0].start == 0 and layout[-1].stop == encoder.n_features
    assert all(a.stop == b.start for a, b in itertools.pairwise(layout))
    assert len(encoder.feature_names()) == encoder.n_features
    values = [s for s in layout if s.is_value]
    assert [s.column for s in values] == ["skewed", "gain", "bimodal", "hours", "gaps"]
    assert {s.kind for s in values} == {"normal" if config.numeric == "quantile" else "numeric"}
    spans = {column: [s for s in layout if s.column == column] for column in encoder.columns}
    widths = {column: [s.width for s in group] for column, group in spans.items()}
    modes = [encoder.codecs[i].value_map.n_modes for i in range(5)]
    assert widths["gaps"][-1] == 2 and spans["gaps"][-1].is_missing_indicator
    if config.point_mass is None:
        assert widths["gain"] == [1] + [modes[1]] * bool(modes[1])
    else:  # gain is 90% zeros and hours 45% forties: an "other / that value" span each; bimodal has no point mass
        assert widths["gain"][-1] == widths["hours"][-1] == 2
        assert encoder.feature_names()[spans["gain"][-1].start:spans["gain"][-1].stop] == ("gain__other", "gain=0")
        assert len(spans["bimodal"]) == 1 + bool(modes[2])
    encoded = encoder.transform(_frame())
    for span in layout:  # one 1 per softmax span and row, as the generator's softmax gives (an empty span would
        if not span.is_value:  # tell real rows from generated ones): point masses and missing values have a mode
            assert set(np.unique(encoded[:, span.slice].sum(axis=1))) == {1.0}, span
    if config.numeric != "quantile":
        assert np.abs(encoded).max() <= 1.0


def test_the_quantile_map_encodes_normal_scores_and_keeps_every_distinct_value() -> None:
    frame = _frame()
    encoder = _encoder(frame, EncoderConfig(numeric="quantile"))
    encoded = encoder.transform(frame)
    skewed = encoded[:, encoder.layout[0].start]
    assert abs(skewed.mean()) < 0.01 and abs(skewed.std() - 1) < 0.01  # normal scores of 3,000 distinct values
    hours_map = encoder.codecs[3].value_map
    assert isinstance(hours_map, Quantile) and hours_map.discrete
    assert set(hours_map.reference) == set(frame["hours"].astype(float))
    # Normal noise decodes to training values with their training frequencies (the steps of the CDF).
    noise = np.zeros((20_000, encoder.n_features), dtype=np.float32)
    hours = next(s.start for s in encoder.layout if s.column == "hours")
    noise[:, hours] = np.random.default_rng(0).normal(size=20_000)
    drawn = encoder.inverse_transform(noise)["hours"]
    assert abs((drawn == 40).mean() - (frame["hours"] == 40).mean()) < 0.02
    assert set(drawn) <= set(frame["hours"])


def test_a_capped_quantile_map_interpolates_and_still_inverts_exactly() -> None:
    values = np.random.default_rng(3).lognormal(5, 2, 5000)
    qmap = Quantile.fit(values, n_reference=50)
    assert not qmap.discrete and len(qmap.reference) == 50
    assert qmap.reference[0] == values.min() and qmap.reference[-1] == values.max()
    encoded, _ = qmap.encode(values)
    np.testing.assert_allclose(qmap.decode(encoded, None), values, rtol=1e-9)


def test_the_mixture_finds_both_modes_of_a_bimodal_column() -> None:
    frame = _frame()
    modes = Modes.fit(frame["bimodal"].to_numpy(), n_modes=2)
    assert sorted(round(m) for m in modes.means) == [-5, 20]
    offsets, mode = modes.encode(frame["bimodal"].to_numpy())
    assert np.abs(offsets).max() <= 1.0
    assert (mode == np.argmin(np.abs(np.asarray(modes.means)[None, :] - frame[["bimodal"]].to_numpy()), axis=1)).all()


def test_point_mass_needs_the_share_and_leaves_a_constant_column_alone() -> None:
    assert point_mass(np.array([0.0] * 9 + [1.0]), 0.9) == 0.0
    assert point_mass(np.array([0.0] * 8 + [1.0, 2.0]), 0.9) is None
    assert point_mass(np.array([3.0, 3.0]), 0.1) is None  # all one value: nothing else to encode
    assert point_mass(np.array([0.0, 0.0, 1.0]), None) is None


@pytest.mark.parametrize("config", ENCODINGS, ids=lambda c: f"{c.numeric}-{c.point_mass}")
def test_state_dict_is_json_and_restores_the_encoding(config: EncoderConfig) -> None:
    frame = _frame()
    encoder = _encoder(frame, config)
    restored = TabularEncoder.from_state_dict(json.loads(json.dumps(encoder.state_dict())))
    assert restored.config == config and restored.layout == encoder.layout
    np.testing.assert_array_equal(restored.transform(frame), encoder.transform(frame))
    noise = np.random.default_rng(2).normal(0, 1, (300, encoder.n_features)).astype(np.float32)
    pd.testing.assert_frame_equal(restored.inverse_transform(noise), encoder.inverse_transform(noise))


def test_a_state_saved_before_the_encodings_existed_is_a_max_abs_encoder() -> None:
    frame = _frame()
    encoder = _encoder(frame, EncoderConfig())
    state = encoder.state_dict()
    old = {"columns": state["columns"], "schema": state["schema"], "codecs": [
        {k: v for k, v in codec.items() if k not in ("numeric", "point")}
        | ({"scale": codec["numeric"]["scale"]} if codec["kind"] == "numeric" else {"scale": 1.0})
        for codec in state["codecs"]]}
    restored = TabularEncoder.from_state_dict(old)
    assert restored.config == EncoderConfig()
    np.testing.assert_array_equal(restored.transform(frame), encoder.transform(frame))


def test_configs_serialise_and_old_generator_configs_mean_max_abs() -> None:
    config = GeneratorConfig(encoding=EncoderConfig(numeric="modes", point_mass=0.2, modes=3))
    assert GeneratorConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert GeneratorConfig().encoding == DEFAULT_ENCODING
    old = {k: v for k, v in GeneratorConfig().to_dict().items() if k != "encoding"}
    assert GeneratorConfig.from_dict(old).encoding == EncoderConfig(numeric="max-abs", point_mass=None)
    for bad in ({"numeric": "log"}, {"point_mass": 1.0}, {"quantiles": 1}):
        with pytest.raises(FairGenError):
            EncoderConfig(**bad)


@pytest.mark.parametrize("config", ENCODINGS, ids=lambda c: f"{c.numeric}-{c.point_mass}")
def test_the_max_abs_view_is_the_paper_encoder_of_the_same_data(config: EncoderConfig) -> None:
    frame = _frame()
    view = _encoder(frame, config).max_abs_view()
    np.testing.assert_array_equal(view.transform(frame), _encoder(frame, EncoderConfig()).transform(frame))
