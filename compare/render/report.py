"""``report.md``: the environment, correctness, findings, every table and the plots."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from compare.analyse.analysis import Analysis
from compare.analyse.headline import REGIMES
from compare.analyse.statistics import median_interval
from compare.measure.calibration import Scale
from compare.measure.environment import python_label
from compare.render.tables import HEADLINE, Table

METHOD = (
    "Cells run in rounds: for each job and input, every backend is opened once (start-up "
    "timed apart) and warmed up on a small input, then each round runs sequential first and "
    "every other cell once, in a shuffled order; {repeat} rounds{extra}. Tables quote the "
    "median and the min-max of a cell's runs. A cell's speedup is the median of its "
    "per-round ratios (the round's sequential run over the cell's), which cancels most of a "
    "shared machine's drift; in brackets, the range of those ratios, labelled `range of N "
    "runs`: the rounds of one process leave out the variance between processes, so no "
    "confidence is claimed for it. {apart}An interval that holds 1.0 is said to be within "
    "noise, a winner is named only when its interval lies above the others', and a value a "
    "correct run cannot give is marked SUSPECT and kept out of the findings. CPU use is the "
    "CPU seconds of this process and all its children over wall seconds (100% = one core "
    "busy); efficiency is speedup over workers. See docs/STUDY.md for the method."
)

APART = (
    "The headline's cells are then measured again in {invocations} fresh processes, "
    "{rounds} round(s) each; their speedup is the median of the invocations' medians, and "
    "its interval the pair of those values that holds the true median with the probability "
    "printed beside it, whatever the distribution ({level} for {invocations} values: {pair}). "
)


def method(header: dict[str, Any]) -> str:
    """The method paragraph for the study that ``header`` describes."""
    invocations = header.get("invocations", 0)
    apart = ""
    if invocations:
        cut = median_interval([float(rank) for rank in range(1, invocations + 1)])
        pair = "their range" if cut.low == 1 else f"x({cut.low:g}) to x({cut.high:g}) in order"
        rounds = header.get("invocation_rounds", 1)
        apart = APART.format(invocations=invocations, rounds=rounds, level=cut.label, pair=pair)
    extra = header.get("extra_rounds", 0)
    more = f", and up to {extra} more for cells whose range reaches over 10% from the median"
    return METHOD.format(repeat=header["repeat"], extra=more if extra else "", apart=apart)


def environment_rows(environment: dict[str, Any]) -> list[list[str]]:
    python, cpu = environment["python"], environment["cpu"]
    packages = ", ".join(f"{k} {v}" for k, v in environment["packages"].items() if v)
    return [
        ["date", environment["date"]],
        [
            "CPU",
            f"{cpu['model']}, {cpu['logical_cores']} logical cores ({cpu['usable_cores']} usable)",
        ],
        ["load average (1 min, before)", str(cpu["load_average_1m"])],
        ["OS", environment["os"]["platform"]],
        ["Python", f"{python_label(environment)}, {python['build']}, {python['compiler']}"],
        ["GIL enabled", str(python["gil_enabled"])],
        ["default start method", environment["default_start_method"]],
        ["packages", packages],
        ["commit", environment["commit"] or "unknown (not run from a git checkout)"],
    ]


def correctness(analysis: Analysis) -> list[str]:
    failures = analysis.failures()
    if not failures:
        return [
            f"All {len(analysis.cells)} cells gave output identical to the sequential "
            "backend's (SHA-256 of the output)."
        ]
    lines = [
        f"**{len(failures)} of {len(analysis.cells)} cells FAILED**: their output differs "
        "from the sequential backend's, or the run failed.",
        "",
    ]
    for cell in failures:
        reason = cell.error or f"output differs (digest {str(cell.digest)[:12]})"
        where = f"{cell.job} on {cell.backend} x{cell.workers}"
        lines.append(f"- #{analysis.cells.index(cell)} {where}: {reason}")
    return lines


def render(
    header: dict[str, Any],
    analysis: Analysis,
    tables: list[Table],
    findings: list[str],
    plots: list[str],
) -> str:
    environment = header["environment"]
    cores = environment["cpu"]["logical_cores"]
    lines = [
        f"# mapreduce-study report: {python_label(environment)}, {cores} cores",
        "",
        f"Preset `{header['preset']}` ({header['preset_description']}).",
        f"Command: `{header['command']}`.",
        "",
    ]
    headline = next((table for table in tables if table.title == HEADLINE), None)
    if headline is not None:
        lines += [f"## {headline.title}", "", headline.render("github"), ""]
        regimes = {row[0] for row in headline.rows}
        lines += [f"- **{name}**: {why}" for name, _, why in REGIMES if name in regimes]
        lines.append("")
    lines += [
        method(header),
        "",
        "## Correctness",
        "",
        *correctness(analysis),
    ]
    lines += ["", "## Findings", ""]
    lines += [f"- {finding}" for finding in findings] or ["- (nothing to report: too few cells)"]
    lines += [
        "",
        "## Environment",
        "",
        tabulate(
            [*environment_rows(environment), ["reproduce with", f"`{header['command']}`"]],
            ["", ""],
            tablefmt="github",
        ),
    ]
    lines += ["", "## Datasets", ""]
    if header.get("scale"):
        lines += [f"Generated inputs {Scale(**header['scale']).describe()}.", ""]
    lines.append(
        tabulate(
            [[d["name"], d["bytes"], d["files"], d["description"]] for d in header["datasets"]],
            ["input", "bytes", "files", "what"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    for table in tables:
        if table is not headline:
            lines += ["", f"## {table.title}", "", table.render("github")]
            lines += ["", table.note] if table.note else []
    lines += ["", "## Plots", ""]
    if plots:
        lines += [f"![{name}]({name})" for name in plots]
    else:
        lines.append("No plots: matplotlib is not installed (`pip install .[plots]`).")
    for check in header.get("checks", []):
        lines += ["", f"Check: {check['name']}: {'passed' if check['passed'] else 'FAILED'}."]
    return "\n".join(lines) + "\n"
