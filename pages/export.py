"""Export page: balanced synthetic data, translated pairs, the HTML audit report, metrics and the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import run_cache, state
from fairgen_core.export import ID_CHOICES, IdChoice, csv_bytes, safe_file_name, synthetic_rows, translated_pairs
from fairgen_core.generator.evaluation import GeneratorQuality, assess_quality, default_sigma
from fairgen_core.generator.model import FairGenerator
from fairgen_core.results.metrics_export import metrics_json, metrics_table
from fairgen_core.results.report import build_report
from fairgen_core.runs.layout import MODEL
from fairgen_core.runs.store import RunDir

MAX_ROWS = 1_000_000


#: How each identifier choice is offered.
ID_LABELS = {"fresh": "Fresh identifiers (never equal to a real one)", "omit": "Leave the identifier column(s) out"}


@st.cache_data(max_entries=4, show_spinner=False)
def synthetic_csv(run: str, model_mtime: float, n: int, seed: int, ids: IdChoice, _real: pd.DataFrame) -> bytes:
    """``n`` balanced synthetic rows of the run's model as escaped CSV bytes, identifiers as chosen against the
    run's table ``_real`` (cached by run, model file, n, seed and the choice; the table is the run's, not hashed)."""
    return csv_bytes(synthetic_rows(run_cache.run_model(RunDir(run)), n, _real, seed=seed, ids=ids))


def choose_ids(model: FairGenerator) -> IdChoice:
    """The identifier choice for the exported rows (fresh when the data has no identifier column)."""
    columns = model.assembler.id_columns
    if not columns:
        return "fresh"
    names = ", ".join(f"'{c}'" for c in columns)
    return st.radio(f"Identifier column(s) {names} of the synthetic rows", ID_CHOICES, format_func=ID_LABELS.get,
                    key="export.ids", horizontal=True,
                    help="Synthetic rows are nobody: they never carry a real identifier, nor (translated pairs) their "
                         "source row's.")


def file_size(n_bytes: int) -> str:
    """A human-readable size, e.g. ``'12 KB'`` or ``'3.4 MB'``."""
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{max(1, round(n_bytes / 1e3))} KB"


def domain_plan(model: FairGenerator, n: int) -> pd.DataFrame:
    """Rows per (group, label) domain for a total of ``n`` (which must be divisible by the number of domains)."""
    return pd.DataFrame({"domain": model.domain_names, "rows": model.domain_counts(n)})


def pairs_csv(model: FairGenerator, frame: pd.DataFrame, run: RunDir, ids: IdChoice = "fresh") -> bytes:
    """The translated pairs of the run's training rows as escaped CSV bytes (synthetic identifiers as chosen)."""
    return csv_bytes(translated_pairs(model, frame, run.read_manifest().split, ids=ids))


def report_html(run: RunDir, frame: pd.DataFrame, quality: Callable[[], GeneratorQuality]) -> bytes:
    """The HTML audit report as UTF-8 bytes."""
    return build_report(run, frame, quality=quality()).encode("utf-8")


def metrics_csv(run: RunDir, frame: pd.DataFrame, quality: Callable[[], GeneratorQuality]) -> bytes:
    """The report's numbers as a flat CSV."""
    return csv_bytes(metrics_table(run, frame, quality=quality()))


def metrics_json_bytes(run: RunDir, frame: pd.DataFrame, quality: Callable[[], GeneratorQuality]) -> bytes:
    """The report's numbers as JSON."""
    return json.dumps(metrics_json(run, frame, quality=quality()), indent=1, ensure_ascii=False).encode("utf-8")


def synthetic_section(run: RunDir, model: FairGenerator, stem: str, real: pd.DataFrame, ids: IdChoice) -> None:
    """Pick a size that splits evenly over the domains, generate on request, offer ``<stem>_synthetic_<n>.csv``."""
    st.subheader("Balanced synthetic data")
    n_domains = model.n_domains
    default = min(MAX_ROWS, -(-len(real) // n_domains) * n_domains)
    left, right = st.columns(2)
    n = int(left.number_input("Total rows", min_value=n_domains, max_value=MAX_ROWS, value=default, step=n_domains,
                              key="export.n", help=f"Split equally over the {n_domains} (group, label) domains."))
    seed = int(right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="export.seed"))
    if n % n_domains:
        lower, upper = max(n_domains, n - n % n_domains), n - n % n_domains + n_domains
        st.error(f"{n:,} rows cannot be split equally over the {n_domains} domains (group × label cells): choose a "
                 f"multiple of {n_domains}, e.g. {lower:,} or {upper:,}.")
        return
    st.dataframe(domain_plan(model, n), hide_index=True, key="export.plan")
    request = (str(run.path), n, seed, ids)
    if st.button(f"Generate {n:,} rows", key="export.generate"):
        state.set_export_request(request)
    if state.export_request() != request:
        st.caption("Rows are generated when you press the button; the same size and seed give the same rows.")
        return
    with st.spinner(f"Generating {n:,} synthetic rows…"):
        data = synthetic_csv(str(run.path), run.model_path.stat().st_mtime, n, seed, ids, real)
    st.download_button(f"Download {n:,} rows (CSV, {file_size(len(data))})", data=data,
                       file_name=safe_file_name(f"{stem}_synthetic_{n}", "csv"), mime="text/csv",
                       on_click="ignore", key="export.synthetic", icon=":material/download:")


def main() -> None:
    """Render the page for the current run."""
    st.title("Export")
    run = run_cache.require_run()
    if run is None:
        return
    source = run_cache.run_data(run)
    if source is None:
        return
    manifest = run.read_manifest()
    model = run_cache.run_model(run)
    stem = f"fairgen_{Path(manifest.data).stem}"
    st.caption(f"Run '{run.path.name}' on {manifest.data}, created {manifest.created}. Text cells that a "
               "spreadsheet would run as formulas are prefixed with ' in every CSV.")
    ids = choose_ids(model)
    synthetic_section(run, model, stem, source.frame, ids)

    st.subheader("Translated pairs")
    st.caption(f"Each of the {len(manifest.split.train):,} real training rows followed by its synthetic counterpart "
               "in another group (label kept or flipped), as the fair classifier's fine-tuning sees them.")
    st.download_button("Download translated pairs (CSV)", data=partial(pairs_csv, model, source.frame, run, ids),
                       file_name=safe_file_name(f"{stem}_translated_pairs", "csv"), mime="text/csv",
                       on_click="ignore", key="export.pairs", icon=":material/download:")

    st.subheader("Audit report and metrics")
    sigma = default_sigma(manifest.data)
    # Built on click, outside the page script; the three downloads share one quality assessment.
    quality = cache(partial(assess_quality, model, source.frame, manifest.split, sigma=sigma))
    st.caption(f"The report opens offline in any browser; quality is measured with the baseline noise σ = {sigma:g} "
               "(as on the Quality page by default). Its trade-off and comparison sections need **Compute the "
               "trade-off** (Fair classifier page) and **Run the comparison methods** (Compare methods page) first; "
               "without them the report says what to run. The same numbers come as a flat CSV and as JSON; each is "
               "built when you click, which takes a few seconds the first time.")
    columns = st.columns(3)
    downloads = [("HTML report", report_html, "report", "html", "text/html"),
                 ("metrics (CSV)", metrics_csv, "metrics", "csv", "text/csv"),
                 ("metrics (JSON)", metrics_json_bytes, "metrics", "json", "application/json")]
    for column, (label, build, name, extension, mime) in zip(columns, downloads):
        column.download_button(label, data=partial(build, run, source.frame, quality),
                               file_name=safe_file_name(f"{stem}_{name}", extension), mime=mime, on_click="ignore",
                               key=f"export.{name}.{extension}", icon=":material/download:")

    st.subheader("Model checkpoint")
    st.caption("Loadable with `FairGenerator.load` (tensors only: `torch.load(weights_only=True)`), e.g. for "
               "`python -m fairgen_core sample`.")
    st.download_button(f"Download {MODEL} ({file_size(run.model_path.stat().st_size)})",
                       data=run.model_path.read_bytes, file_name=safe_file_name(f"{stem}_model", "pt"),
                       mime="application/octet-stream", on_click="ignore", key="export.model",
                       icon=":material/download:")


main()
