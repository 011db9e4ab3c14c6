"""FairGen core: fair synthetic data and fair classifiers for tabular data, without any UI.

The names in ``__all__`` are the library's public API: load data and say what is fair (:func:`open_data`,
:class:`DatasetSpec`), train the generator and draw balanced rows (:func:`fit_generator`, :class:`FairGenerator`),
train the fair classifier (:func:`fit_fair_classifier`), measure fairness and quality (:func:`fairness_report`,
:func:`assess_quality`), audit data and models, run the paper's experiment, and the errors all of them raise. Each
is taken from the public names of its layer (a subpackage or module) when it is first used (PEP 562), so that
``import fairgen_core`` loads neither torch nor pandas. The README's *Library* section shows them at work.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__version__ = "0.1.0"

#: The public names, by the layer that exports them.
_PUBLIC: dict[str, tuple[str, ...]] = {
    "fairgen_core.data": ("open_data", "DataSource", "get_builtin", "infer_schema", "suggest_label", "Schema",
                          "ColumnKind", "DatasetSpec", "SensitiveAttribute", "infer_favourable", "validate_spec",
                          "assign_domains", "domain_table", "default_split", "Split"),
    "fairgen_core.config": ("GeneratorConfig", "ClassifierConfig"),
    "fairgen_core.generator": ("fit_generator", "EpochReport", "LossTerms", "FairGenerator", "assess_quality",
                               "assess_translation", "GeneratorQuality"),
    "fairgen_core.export": ("synthetic_rows", "write_csv"),
    "fairgen_core.classifier": ("fit_fair_classifier", "fit_baseline", "FairClassifier", "ratio_sweep"),
    "fairgen_core.mitigations": ("compare_methods",),
    "fairgen_core.metrics": ("fairness_report", "FairnessReport"),
    "fairgen_core.audit": ("audit_data", "AuditConfig"),
    "fairgen_core.model_audit": ("audit_model", "ModelAuditConfig"),
    "fairgen_core.experiment": ("run_experiment", "ExperimentConfig"),
    "fairgen_core.errors": ("FairGenError", "DataReadError", "DataTooLargeError", "DatasetUnavailableError",
                            "SchemaError", "SpecError", "EncodingError", "TrainingDivergedError", "PredictionError",
                            "RunFolderError", "JobError", "MethodUnavailableError"),
}
_LAYER = {name: layer for layer, names in _PUBLIC.items() for name in names}

__all__ = sorted(_LAYER)


def __getattr__(name: str) -> Any:
    """Import a public name from its layer on first use (and keep it here)."""
    layer = _LAYER.get(name)
    if layer is None:
        raise AttributeError(f"module 'fairgen_core' has no attribute '{name}'")
    value = getattr(_load(layer), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, whether imported yet or not, and the module's own."""
    return sorted({*globals(), *__all__})


def _load(layer: str) -> ModuleType:
    """``layer`` imported by a plain import statement (product code never imports a module by a computed name)."""
    match layer:
        case "fairgen_core.data":
            import fairgen_core.data as module
        case "fairgen_core.config":
            import fairgen_core.config as module
        case "fairgen_core.generator":
            import fairgen_core.generator as module
        case "fairgen_core.export":
            import fairgen_core.export as module
        case "fairgen_core.classifier":
            import fairgen_core.classifier as module
        case "fairgen_core.mitigations":
            import fairgen_core.mitigations as module
        case "fairgen_core.metrics":
            import fairgen_core.metrics as module
        case "fairgen_core.audit":
            import fairgen_core.audit as module
        case "fairgen_core.model_audit":
            import fairgen_core.model_audit as module
        case "fairgen_core.experiment":
            import fairgen_core.experiment as module
        case "fairgen_core.errors":
            import fairgen_core.errors as module
        case _:
            raise AttributeError(f"fairgen_core has no public layer '{layer}'")
    return module
