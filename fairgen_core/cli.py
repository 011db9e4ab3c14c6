"""Command line: ``python -m fairgen_core SUBCOMMAND ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import pandas as pd

from fairgen_core.data.datasets import BUILTIN_DATASETS
from fairgen_core.data.io import ReadLimits
from fairgen_core.data.sources import DataSource, open_data
from fairgen_core.data.spec import (
    DatasetSpec,
    SensitiveAttribute,
    assign_domains,
    domain_table,
    infer_favourable,
    require_column,
    validate_spec,
)
from fairgen_core.errors import FairGenError, SpecError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fairgen_core`` command."""
    parser = argparse.ArgumentParser(
        prog="python -m fairgen_core",
        description="FairGen: audit tabular data for group fairness and generate balanced synthetic data.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    datasets = commands.add_parser("datasets", help="list the built-in datasets")
    datasets.add_argument("--json", action="store_true", help="print JSON instead of a table")
    datasets.set_defaults(handler=_datasets)

    inspect = commands.add_parser(
        "inspect",
        help="print the inferred schema and the group × label domain table",
        description="Print the inferred schema and the domain table (counts of every group × label cell, "
        "base rates per group). Without --label/--sensitive a built-in dataset uses the paper's choice.",
    )
    inspect.add_argument("data", metavar="DATA", help="a built-in name (see `datasets`) or a CSV path")
    inspect.add_argument("--file", help="raw file for built-ins that need one (meps: AHRQ h181.csv)")
    inspect.add_argument("--label", help="label column")
    inspect.add_argument("--favourable", nargs="+", metavar="VALUE",
                         help="favourable label value(s); inferred for 0/1 labels")
    inspect.add_argument("--sensitive", nargs="+", metavar="RULE",
                         help="sensitive attribute(s): COL=VALUE[,VALUE] (privileged values) or COL>=NUMBER; "
                         "COL alone takes the most frequent value as privileged")
    inspect.add_argument("--min-domain-rows", type=int, default=20, metavar="N",
                         help="warn about domains with fewer rows (default 20)")
    inspect.add_argument("--max-mb", type=float, default=ReadLimits().max_bytes / 1e6,
                         help="largest CSV accepted, in MB")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of tables")
    inspect.set_defaults(handler=_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, with the message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except FairGenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _datasets(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": ds.name,
            "rows": ds.n_rows,
            "label": f"{ds.label} (favourable: {', '.join(map(str, ds.favourable))})",
            "sensitive": "; ".join(a.describe() for a in ds.sensitive),
            "also": "; ".join(a.describe() for a in ds.alternatives) or "-",
            "needs file": "yes" if ds.needs_file else "no",
            "title": ds.title,
        }
        for ds in BUILTIN_DATASETS.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    source = open_data(args.data, file=args.file, limits=ReadLimits(max_bytes=int(args.max_mb * 1e6)))
    spec = _spec_from_args(args, source)
    warnings = validate_spec(source.frame, source.schema, spec)
    schema_table = pd.DataFrame(
        [{"column": c.name, "kind": c.kind.value, "dtype": c.dtype, "distinct": c.n_unique, "missing": c.n_missing}
         for c in source.schema.columns]
    )
    table = domain_table(source.frame, spec)
    if args.json:
        print(json.dumps({
            "data": source.name,
            "rows": len(source.frame),
            "schema": schema_table.to_dict(orient="records"),
            "label": spec.label,
            "favourable": [str(v) for v in spec.favourable],
            "sensitive": [a.describe() for a in spec.sensitive],
            "domains": table.reset_index().to_dict(orient="records"),
            "notes": list(source.notes),
            "warnings": list(warnings),
        }, indent=2, default=str))
        return 0
    print(f"{source.name}: {len(source.frame):,} rows × {source.frame.shape[1]} columns")
    for note in source.notes:
        print(f"  note: {note}")
    print("\nSchema\n" + schema_table.to_string(index=False))
    print(f"\nLabel: {spec.label}, favourable = {', '.join(map(str, spec.favourable))}")
    print("Sensitive: " + "; ".join(a.describe() for a in spec.sensitive))
    label_names = assign_domains(source.frame, spec).label_names
    print("\nDomains (group × label)\n" + _format_domain_table(table, label_names))
    for warning in warnings:
        print(f"warning: {warning}")
    return 0


def _spec_from_args(args: argparse.Namespace, source: DataSource) -> DatasetSpec:
    default = source.default_spec
    label = args.label or (default.label if default else None)
    if label is None:
        raise SpecError("choose the label column with --label COL.")
    if args.favourable:
        favourable = tuple(args.favourable)
    elif default is not None and label == default.label:
        favourable = default.favourable
    else:
        require_column(source.frame, label, "label")
        favourable = infer_favourable(source.frame[label], label)
    if args.sensitive:
        sensitive = tuple(_parse_sensitive(rule, source.frame) for rule in args.sensitive)
    elif default is not None:
        sensitive = default.sensitive
    else:
        raise SpecError("choose at least one sensitive attribute with --sensitive COL=VALUE or COL>=NUMBER.")
    return DatasetSpec(label, favourable, sensitive, min_domain_rows=args.min_domain_rows)


def _parse_sensitive(rule: str, frame: pd.DataFrame) -> SensitiveAttribute:
    if "=" in rule:
        return SensitiveAttribute.parse(rule)
    column = rule.strip()
    require_column(frame, column, "sensitive attribute")
    counts = frame[column].value_counts()
    if counts.empty:
        raise SpecError(f"sensitive attribute '{column}' has no values: choose another column.")
    return SensitiveAttribute(column, (counts.index[0],))


def _format_domain_table(table: pd.DataFrame, label_names: tuple[str, str]) -> str:
    shown = table.copy()
    for column in ("base_rate", "p_unfavourable", "p_favourable"):
        shown[column] = shown[column].map("{:.3f}".format)
    unfavourable, favourable = label_names
    shown.columns = [f"n({unfavourable})", f"n({favourable})", "n", "P(y=1|group)", "P(group,y=0)", "P(group,y=1)"]
    return shown.to_string() + "\n(y=1: " + favourable + ")"
