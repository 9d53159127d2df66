"""The model card of a run: a Markdown page filled from its manifest, and nothing else.

`train` publishes it as model-card.md beside the model, the manifest and the metrics,
so the card always describes the model in the same folder. What a manifest cannot know
(intended use, who may rely on the model, known limits) belongs in docs/model-card.md,
which the team writes.
"""

from __future__ import annotations

from typing import Any

from trimode.core.secrets import redact


def model_card(manifest: dict[str, Any]) -> str:
    """The Markdown model card of the run the manifest records."""
    sections = [
        _model(manifest),
        _data(manifest),
        _evaluation(manifest),
        _caveats(manifest),
        _provenance(manifest),
    ]
    title = f"# Model card: {manifest['model']} ({manifest['mode']} mode)\n"
    return redact(title + "\n" + "\n".join(sections))


def _facts(rows: dict[str, Any]) -> str:
    return "".join(f"- {name}: {_code(value)}\n" for name, value in rows.items())


def _code(value: Any) -> str:
    if value is None or value == "":
        return "none"
    return f"`{value}`" if isinstance(value, str | int | float | bool) else f"`{value!r}`"


def _model(manifest: dict[str, Any]) -> str:
    features = manifest["features"]
    used = {
        kind: len(features.get(kind, [])) for kind in ("numeric", "categorical", "dates", "text")
    }
    params = "".join(f"  - {key}: {_code(value)}\n" for key, value in manifest["params"].items())
    return (
        "## Model\n\n"
        + _facts(
            {
                "task": manifest["task"],
                "target": manifest["target"],
                "registry model": manifest["model"],
                "classes": manifest["classes"],
                "features (numeric, categorical, dates, text)": ", ".join(
                    str(count) for count in used.values()
                ),
            }
        )
        + "- hyper-parameters:\n"
        + params
    )


def _data(manifest: dict[str, Any]) -> str:
    data, split = manifest["data"], manifest["split"]
    return "## Training data\n\n" + _facts(
        {
            "source": data["source"],
            "rows": data["rows"],
            "content hash": data["content_hash"],
            "rows without a target (dropped)": data.get("dropped_missing_target", 0),
            "held out for evaluation": f"{split['n_test']} of {split['n_train'] + split['n_test']}"
            f" (test_fraction {split['test_fraction']}, seed {split['seed']})",
            "refit on all rows after evaluation": manifest["refit_on_all_rows"],
        }
    )


def _evaluation(manifest: dict[str, Any]) -> str:
    metrics, baseline = manifest["metrics"], manifest["baseline"]
    lines = ["## Evaluation on the held-out rows\n", "| metric | model | dummy baseline |"]
    lines.append("|---|---|---|")
    lines += [
        f"| {name} | {_number(value)} | {_number(baseline.get(name))} |"
        for name, value in metrics.items()
    ]
    gate = manifest["gate"]
    verdict = "passed" if gate["passed"] else "FAILED"
    enforced = "enforced" if gate["enforced"] else "not enforced in this mode"
    lines += [
        "",
        f"Primary metric `{manifest['primary_metric']}`, lift over the dummy baseline "
        f"{_number(manifest['lift_over_baseline'])}; quality gate {verdict} ({enforced}).",
    ]
    lines += [
        f"- {check['check']}: {_number(check['value'])}, required {check['required']}: "
        f"{'passed' if check['passed'] else 'FAILED'}"
        for check in gate["checks"]
    ]
    return "\n".join(lines) + "\n"


def _caveats(manifest: dict[str, Any]) -> str:
    said = [*manifest.get("warnings", []), *manifest.get("notes", [])]
    if not said:
        return "## What the run warned about\n\nNothing.\n"
    return "## What the run warned about\n\n" + "".join(f"- {line}\n" for line in said)


def _provenance(manifest: dict[str, Any]) -> str:
    git, artifact = manifest["git"], manifest["artifact"]
    dirty = " (uncommitted changes)" if git.get("dirty") else ""
    return "## Provenance\n\n" + _facts(
        {
            "trained": f"{manifest['started_at']} to {manifest['finished_at']}",
            "git commit": f"{git.get('commit') or 'none'}{dirty}",
            "config files": ", ".join(manifest["config_files"]),
            "libraries": ", ".join(f"{k} {v}" for k, v in manifest["libraries"].items()),
            "artifact": f"{artifact['file']} sha256 {artifact['sha256']}",
        }
    )


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"
