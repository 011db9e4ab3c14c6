"""Data layer: reading CSVs, schemas, dataset specifications, encoding, built-in datasets, splits."""

from fairgen_core.data.datasets import BUILTIN_DATASETS, BuiltinDataset, get_builtin
from fairgen_core.data.encoding import ColumnCodec, Span, TabularEncoder
from fairgen_core.data.io import LoadedTable, ReadLimits, read_csv
from fairgen_core.data.meps import load_meps
from fairgen_core.data.schema import ColumnKind, ColumnSchema, InferenceRules, Schema, infer_schema, suggest_label
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import (
    DatasetSpec,
    DomainAssignment,
    SensitiveAttribute,
    assign_domains,
    domain_table,
    infer_favourable,
    spec_from_dict,
    spec_to_dict,
    validate_spec,
)
from fairgen_core.data.splits import Split, default_split, split_by_domain

__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinDataset",
    "ColumnCodec",
    "ColumnKind",
    "ColumnSchema",
    "DataSource",
    "DatasetSpec",
    "DomainAssignment",
    "InferenceRules",
    "LoadedTable",
    "ReadLimits",
    "Schema",
    "SensitiveAttribute",
    "Span",
    "Split",
    "TabularEncoder",
    "assign_domains",
    "default_split",
    "domain_table",
    "get_builtin",
    "infer_favourable",
    "infer_schema",
    "load_meps",
    "open_data",
    "read_csv",
    "spec_from_dict",
    "spec_to_dict",
    "split_by_domain",
    "suggest_label",
    "validate_spec",
]
