"""results.json (hyperfine's exports and the figures drawn from them) as results.md.

python -m benchmarks.render benchmarks/results.json      re-render without measuring
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

MIB = 2**20


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def figure_row(item: dict) -> str:
    if "value_bytes" in item:
        value, baseline = f"{item['value_bytes'] / MIB:,.0f} MiB", f"{item['baseline_bytes'] / MIB:,.0f} MiB"
    else:
        value, baseline = seconds(item["value_s"]), seconds(item["baseline_s"])
    met = "yes" if item["met"] else "**NO**"
    title, cpu = f"{item['key']}. {item['title']}", f"{item['cpu_ratio']:.3f}x" if "cpu_ratio" in item else "—"
    return f"| {title} | {value} | {baseline} | {item['ratio']:.3f}x | {cpu} | ≤ {item['target']}x | {met} |"


def load(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def invocation_section(run: dict) -> list[str]:
    samples = run["load1_samples"]
    during = f"{min(samples):.2f}–{max(samples):.2f}" if samples else "n/a"
    lines = [
        f"### `{run['name']}`: {run['rounds']} rounds, each command run once per round, in turn"
        + (" (after one untimed warm-up run of each)" if run["name"] == "noop" else ""),
        "",
        f"Load average (1, 5, 15 min) before {load(run['load_before'])}, after {load(run['load_after'])}; "
        f"1-min load during the runs {during} (sampled every 5 s).",
        "",
        "| Command | Median | Mean ± σ | User + sys (mean) | Each run, in round order (s) |",
        "|---|---|---|---|---|",
    ]
    for item in run["results"]:
        each = ", ".join(f"{value:.1f}" for value in item["times"])
        lines.append(
            f"| {item['command']} | {seconds(item['median'])} | {seconds(item['mean'])} ± {item['stddev']:.2f} "
            f"| {seconds(item['user'] + item['system'])} | {each} |"
        )
    checks = run.get("checks", {})
    if any(record["steps"] for records in checks.values() for record in records):
        lines += ["", "Where the time goes (median over the runs of each command's own step timings, seconds):", ""]
        for label, records in checks.items():
            names = list(dict.fromkeys(name for record in records for name in record["steps"]))
            parts = [f"{name} {statistics.median(r['steps'].get(name, 0.0) for r in records):.2f}" for name in names]
            if parts:
                lines.append(f"- {label}: " + "; ".join(parts))
    lines += ["", "Checked after every run: " + check_summary(checks)]
    if "dvc_status_says" in run:
        lines[-1] += f" `dvc status` says: {run['dvc_status_says']}"
    lines.append("")
    return lines


def check_summary(checks: dict) -> str:
    said = []
    for label, records in checks.items():
        reproduced = sorted({record.get("reproduced") or ", ".join(record.get("ran", [])) for record in records})
        shown = f" ({'; '.join(item for item in reproduced if item)})" if any(reproduced) else ""
        said.append(f"{label}: {len(records)} runs passed{shown}")
    return "; ".join(said) + "."


def render(results: dict) -> str:
    box, versions = results["machine"], results["versions"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {results['started']} in {results['duration_s'] / 60:.1f} min, mode `{results['mode']}`, "
        f"project commit `{results['commit'][:10]}`"
        + (f" with uncommitted changes ({', '.join(results['uncommitted'])})" if results["uncommitted"] else "")
        + ". Every ratio compares medians of commands timed by hyperfine in the same invocation. Protocols: "
        "[README.md](README.md). Reproduce with `make bench` (`make bench-quick`: small data).",
        "",
        f"Machine: {box['cpus']} CPUs ({box['cpu']}), {box['memory_gib']} GiB, Linux {box['kernel']}; load average "
        f"{load(box['load_at_start'])} at start, {load(box.get('load_at_end', []))} at end. **The machine is shared** "
        "with other jobs: the load is recorded around each invocation below, and a loaded box slows the commands "
        "that compute (training) more than the ones that wait.",
        "",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
    ]
    if "error" in results:
        lines += ["**The run failed; the figures below are what was measured before the failure:**", "", "```"]
        lines += [results["error"].rstrip(), "```", ""]
    lines += [
        "## Figures",
        "",
        "Value and baseline: medians of wall time; *CPU*: the ratio of mean user + system times, which the other jobs "
        "on the machine disturb less. The targets are on wall time.",
        "",
        "| Figure | Value | Baseline | Ratio | CPU | Target | Met? |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [figure_row(item) for item in sorted(results["figures"], key=lambda item: item["key"])]
    if results["mode"] == "quick":
        lines += [
            "",
            "Quick mode: small data, so fixed costs dominate; the targets are the issue's for the full sizes.",
        ]
    if notes := results.get("notes"):
        lines += ["", "## Why targets are missed", "", *notes]
    lines += ["", "## hyperfine invocations", ""]
    for run in results["invocations"]:
        lines += invocation_section(run)
    if memory := results.get("memory"):
        lines += [
            "## Peak memory",
            "",
            f"{memory['rows']:,} new rows, raw CSV {memory['csv_bytes'] / MIB:,.0f} MiB; each stage's `cmd` run alone, "
            f"in order (load average after: {load(memory['load_after'])}).",
            "",
            "| Stage | Peak RSS | / CSV | Wall |",
            "|---|---|---|---|",
        ]
        for name, stage in memory["stages"].items():
            rss = stage["peak_rss_bytes"]
            lines.append(
                f"| {name} | {rss / MIB:,.0f} MiB | {rss / memory['csv_bytes']:.2f}x | {seconds(stage['wall_s'])} |"
            )
        lines.append("")
    for title, profile in results.get("profiles", {}).items():
        lines += ["<details><summary>pyinstrument profile of " + title + " (one more run, untimed)</summary>", ""]
        lines += ["```", profile.strip("\n"), "```", "", "</details>", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    source = Path(sys.argv[1])
    source.with_suffix(".md").write_text(render(json.loads(source.read_text())))
