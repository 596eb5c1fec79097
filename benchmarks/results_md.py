"""Render the benchmark results (the JSON written by run.py) as benchmarks/results.md."""

from __future__ import annotations

from pathlib import Path

ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
REPO_ROOT = Path(__file__).resolve().parents[1]
STAGES = ("preprocessing", "train", "evaluate")


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def _rows(value: int | str) -> str:
    value = int(value)
    return f"{value // 1_000_000}M" if value % 1_000_000 == 0 else f"{value // 1000}k"


def _met(flag: bool | None) -> str:
    return "—" if flag is None else ("**yes**" if flag else "**NO**")


def _samples(spread: dict) -> str:
    return ", ".join(f"{value:.2f}" for value in spread["samples"])


def summary_rows(results: dict) -> list[list[str]]:
    figures = results.get("figures", {})
    rows: list[list[str]] = []
    for size, item in figures.get("overhead", {}).get("sizes", {}).items():
        if "ratio" not in item:
            continue
        rows.append(
            [
                f"1. Overhead, {_rows(size)} new rows: `retrain run` (whole cycle) vs the bare computation",
                _s(item["run_wall_s"]["median"]),
                _s(item["bare_wall_s"]["median"]),
                f"{item['ratio']:.2f}x",
                f"≤ {item['target']}x",
                _met(item["met"]),
            ]
        )
    if noop := figures.get("noop"):
        ran = ", ".join(noop["stages_run"]) or "none"
        rows.append(
            [
                f"2. No-op `retrain run` vs `dvc status` (stages run: {ran}; status {', '.join(noop['run_status'])})",
                _s(noop["run_wall_s"]["median"]),
                _s(noop["dvc_status_wall_s"]["median"]),
                f"{noop['ratio']:.2f}x",
                f"≤ {noop['target']}x, no stage runs",
                _met(noop["met"]),
            ]
        )
    if merge := figures.get("merge"):
        executed = ", ".join(merge["stages_executed"]) or "none"
        rows.append(
            [
                f"3. Merge build at {_rows(merge['rows'])} (fresh clone, empty cache; stages executed: {executed}) "
                "vs the full cycle",
                _s(merge["merge_wall_s"]["median"]),
                _s(merge["full_cycle_wall_s"]["median"]),
                f"{merge['ratio']:.2f}x",
                f"≤ {merge['target']}x, train not executed",
                _met(merge["met"]),
            ]
        )
    if scale := figures.get("scale"):
        linear = scale["linearity"]
        worst = max(linear["time_per_row_growth"], key=lambda name: linear["time_per_row_growth"][name])
        rows.append(
            [
                f"4. Time per row, {_rows(linear['from_rows'])} → {_rows(linear['to_rows'])} (worst: {worst}; "
                "1.00 = linear)",
                f"{linear['time_per_row_growth'][worst]:.2f}",
                "1.00",
                f"{linear['time_per_row_growth'][worst]:.2f}",
                f"≤ {linear['tolerance']} (near-linear)",
                _met(linear["met"]),
            ]
        )
        memory = scale["memory"]
        largest = scale["sizes"][str(memory["rows"])]
        worst = max(memory["peak_rss_over_csv"], key=lambda name: memory["peak_rss_over_csv"][name])
        rows.append(
            [
                f"4. Peak RSS at {_rows(memory['rows'])} rows (worst stage: {worst}) vs the raw CSV size",
                _mib(largest["stages"][worst]["peak_rss_mib"]),
                _mib(largest["raw_csv_bytes"] / 2**20),
                f"{memory['peak_rss_over_csv'][worst]:.2f}x",
                f"≤ {memory['target']}x",
                _met(memory["met"]),
            ]
        )
    if transfer := figures.get("transfer"):
        size = _mib(transfer["bytes"] / 2**20)
        rows.append(
            [
                f"5. `dvc push` of the {_rows(transfer['rows'])}-row data and model ({size}) vs boto3 upload",
                _s(transfer["dvc_push_wall_s"]["median"]),
                _s(transfer["boto3_upload_wall_s"]["median"]),
                f"{transfer['push_ratio']:.2f}x",
                f"≤ {transfer['target']}x",
                _met(transfer["push_met"]),
            ]
        )
        rows.append(
            [
                f"5. `dvc pull` (fresh clone) of the same ({size}) vs boto3 download",
                _s(transfer["dvc_pull_wall_s"]["median"]),
                _s(transfer["boto3_download_wall_s"]["median"]),
                f"{transfer['pull_ratio']:.2f}x",
                f"≤ {transfer['target']}x",
                _met(transfer["pull_met"]),
            ]
        )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(results: dict) -> str:
    quick = results.get("mode") == "quick"
    out = [
        f"# Benchmark results{' (quick mode)' if quick else ''}",
        "",
        f"Measured {results.get('started', '?')} in {results.get('duration_s', 0) / 60:.1f} min, "
        f"mode `{results.get('mode')}`, each figure the median of {results.get('repeats')} runs unless said "
        "otherwise, every baseline measured in the same run. Reproduce with `make bench` "
        "(or `make bench-quick`, under five minutes, which writes `benchmarks/results-quick.md`). "
        "The protocol of each figure is in [README.md](README.md).",
        "",
        "Project measured: "
        + (f"`{results['project']}` (not this checkout), " if results.get("project") != str(REPO_ROOT) else "")
        + f"commit `{results.get('project_commit', '?')[:10]}`"
        + (
            f" plus uncommitted changes to {', '.join(line[3:] for line in results['project_uncommitted'])}"
            if results.get("project_uncommitted")
            else ""
        )
        + ".",
        "",
    ]
    if results.get("project") not in (None, str(REPO_ROOT)):
        out += [
            "> This run measured another working tree (`run.py --project`), not this checkout: see the analysis "
            "at the end of [results.md](results.md) for what it is and why.",
            "",
        ]
    if quick:
        out += [
            "> Quick mode uses smaller sizes than the issue's (its targets are for 100k/1M/5M rows): "
            "the figures are indicative only.",
            "",
        ]
    if results.get("error"):
        out += ["> **The run failed before finishing**; the figures below are the ones measured.", "", "```"]
        out += results["error"].strip().splitlines()[-8:]
        out += ["```", ""]
    machine = results.get("machine", {})
    versions = results.get("versions", {})
    out += [
        "## Machine and versions",
        "",
        f"- {machine.get('nproc')} CPUs ({machine.get('cpu_model')}), {machine.get('memory_gib')} GiB RAM, "
        f"Linux {machine.get('kernel')}; load average at start {' '.join(machine.get('load_at_start', []))}, "
        f"at end {' '.join(machine.get('load_at_end', []))} (the machine is shared: see *foreign CPU* below)",
        "- " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        "",
        "## Summary",
        "",
    ]
    out += _table(["Figure", "Value", "Baseline", "Ratio", "Target", "Met?"], summary_rows(results))
    out += [""]
    figures = results.get("figures", {})
    out += _overhead(figures.get("overhead"))
    out += _noop(figures.get("noop"))
    out += _merge(figures.get("merge"))
    out += _scale(figures.get("scale"), figures.get("overhead"))
    out += _transfer(figures.get("transfer"))
    out += [
        "## Noise",
        "",
        "*Foreign CPU* is the CPU time that processes outside the measured command used on this 2-core machine "
        "while it ran (from /proc/stat, minus the command's own rusage). Seconds of foreign CPU per second of wall "
        "time near 0 mean a quiet machine; near 2 mean the measured command had to share both cores the whole "
        "time. Figures whose runs saw very different foreign CPU are less trustworthy than their medians suggest.",
        "",
    ]
    if ANALYSIS.exists() and not quick and results.get("project") == str(REPO_ROOT):
        out += [ANALYSIS.read_text().rstrip(), ""]
    return "\n".join(out) + "\n"


def _overhead(figure: dict | None) -> list[str]:
    if not figure:
        return []
    out = ["## 1. Overhead: `retrain run` next to the bare computation", ""]
    for size, item in figure["sizes"].items():
        if "ratio" not in item:
            continue
        out += [
            f"### {_rows(size)} new rows ({item['rows_total']:,} rows in all, raw CSV "
            f"{item['raw_csv_bytes'] / 2**20:,.0f} MiB, accuracy {item['accuracy']})",
            "",
        ]
        rows = [
            [
                "bare computation (one process: start, imports, 3 stage functions, writes)",
                _s(item["bare_wall_s"]["median"]),
                _samples(item["bare_wall_s"]),
                _s(item["bare_cpu_s"]["median"]),
                ", ".join(f"{value:.0f}" for value in item["foreign_cpu_s"]["bare"]),
            ],
            [
                "`retrain run` (whole cycle)",
                _s(item["run_wall_s"]["median"]),
                _samples(item["run_wall_s"]),
                _s(item["run_cpu_s"]["median"]),
                ", ".join(f"{value:.0f}" for value in item["foreign_cpu_s"]["run"]),
            ],
        ]
        out += _table(["What", "Wall (median)", "Samples (s)", "CPU (median)", "Foreign CPU (s)"], rows)
        parts = item["bare_parts_s"]
        out += [
            "",
            f"Ratio {item['ratio']:.2f}x on wall time (target ≤ {item['target']}x); "
            f"{item['ratio_vs_functions_only']:.2f}x against the stage functions alone "
            f"({_s(item['bare_functions_s']['median'])}, imports excluded); {item['cpu_ratio']:.2f}x on CPU time.",
            "",
            f"Bare computation, median seconds: imports {parts['imports']:.2f}, preprocessing "
            f"{parts['preprocessing']:.2f}, train {parts['train']:.2f}, evaluate {parts['evaluate']:.2f}.",
            "",
            "Where `retrain run`'s time goes (median seconds; its own step timings, and the stage processes DVC ran):",
            "",
        ]
        out += _table(["Step", "Seconds"], [[name, f"{value:.2f}"] for name, value in item["run_steps_s"].items()])
        stages = item["run_stage_process_wall_s"]
        out += [
            "",
            "Stage processes: "
            + ", ".join(f"{stage} {stages[stage]:.2f} s" for stage in STAGES)
            + f"; everything outside them {item['run_outside_stages_s']:.2f} s.",
            "",
        ]
    return out


def _noop(figure: dict | None) -> list[str]:
    if not figure:
        return []
    out = [
        f"## 2. No-op: `retrain run` with nothing changed ({_rows(figure['rows'])}-row sandbox, after its release)",
        "",
    ]
    out += _table(
        ["What", "Wall (median)", "Samples (s)", "Foreign CPU (s)"],
        [
            [
                "`dvc status`",
                _s(figure["dvc_status_wall_s"]["median"]),
                _samples(figure["dvc_status_wall_s"]),
                ", ".join(f"{value:.0f}" for value in figure["foreign_cpu_s"]["status"]),
            ],
            [
                "`retrain run`",
                _s(figure["run_wall_s"]["median"]),
                _samples(figure["run_wall_s"]),
                ", ".join(f"{value:.0f}" for value in figure["foreign_cpu_s"]["run"]),
            ],
        ],
    )
    out += [
        "",
        f"Ratio {figure['ratio']:.2f}x (target ≤ {figure['target']}x). Stages run: "
        f"{', '.join(figure['stages_run']) or 'none'}; run status: {', '.join(figure['run_status'])}.",
        "",
    ]
    out += _table(["Step", "Seconds"], [[name, f"{value:.2f}"] for name, value in figure["run_steps_s"].items()])
    return [*out, ""]


def _merge(figure: dict | None) -> list[str]:
    if not figure:
        return []
    out = [
        f"## 3. Merge build after a pull-request build ({_rows(figure['rows'])} new rows)",
        "",
        f"The PR build (`retrain report --base develop --reproduce`, run once) took {_s(figure['pr_build_wall_s'])} "
        f"and ran {', '.join(figure['pr_build_stages_run']) or 'no stage'}. Each merge build: a fresh `git clone` "
        "of the merged `develop`, empty DVC cache, `retrain setup` (not timed), then `retrain run` (timed).",
        "",
    ]
    out += _table(
        ["What", "Wall (median)", "Samples (s)"],
        [
            ["merge build `retrain run`", _s(figure["merge_wall_s"]["median"]), _samples(figure["merge_wall_s"])],
            [
                "full cycle (figure 1, same size)",
                _s(figure["full_cycle_wall_s"]["median"]),
                _samples(figure["full_cycle_wall_s"]),
            ],
        ],
    )
    out += [
        "",
        f"Ratio {figure['ratio']:.2f}x (target ≤ {figure['target']}x). Stages executed in the merge build: "
        f"{', '.join(figure['stages_executed']) or 'none'}; status {', '.join(figure['merge_status'])}; "
        f"DVC said: {figure['merge_restored'].replace(chr(10), ' / ') or '(nothing about the run-cache)'}.",
        "",
    ]
    out += _table(["Step", "Seconds"], [[name, f"{value:.2f}"] for name, value in figure["merge_steps_s"].items()])
    return [*out, ""]


def _scale(figure: dict | None, overhead: dict | None) -> list[str]:
    if not figure:
        return []
    out = [
        "## 4. Scale: each stage's wall time and peak RSS inside `retrain run`",
        "",
        "Per stage process as DVC ran it (wall from process start to exit, peak RSS from getrusage, both recorded "
        "by the probe in benchmarks/probe/). Sizes shared with figure 1 reuse its runs; a size only used here is "
        "run as often as its `repeats` column says.",
        "",
    ]
    rows = []
    for size, item in figure["sizes"].items():
        for stage in STAGES:
            data = item["stages"][stage]
            rows.append(
                [
                    _rows(size),
                    str(item["repeats"]),
                    f"{item['raw_csv_bytes'] / 2**20:,.0f} MiB",
                    stage,
                    _s(data["wall_s"]),
                    f"{data['wall_s'] / (int(size) / 1e6):.2f} s",
                    _s(data["cpu_s"]),
                    _mib(data["peak_rss_mib"]),
                    f"{data['peak_rss_over_csv']:.2f}x",
                ]
            )
        whole = _s(item["run_wall_s"])
        rows.append([_rows(size), str(item["repeats"]), "", "whole `retrain run`", whole, "", "", "", ""])
    out += _table(
        ["Rows", "Repeats", "Raw CSV", "Stage", "Wall", "Wall per 1M rows", "CPU", "Peak RSS", "RSS / CSV"], rows
    )
    linear = figure["linearity"]
    memory = figure["memory"]
    out += [
        "",
        f"Growth of time per row from {_rows(linear['from_rows'])} to {_rows(linear['to_rows'])} rows "
        "(1.00 = linear): "
        + ", ".join(f"{name} {value:.2f}" for name, value in linear["time_per_row_growth"].items())
        + f"; near-linear means ≤ {linear['tolerance']}: {'met' if linear['met'] else 'NOT met'}.",
        "",
        f"Peak RSS over raw CSV size at {_rows(memory['rows'])} rows: "
        + ", ".join(f"{name} {value:.2f}x" for name, value in memory["peak_rss_over_csv"].items())
        + f"; target ≤ {memory['target']}x: {'met' if memory['met'] else 'NOT met'}.",
        "",
    ]
    return out


def _transfer(figure: dict | None) -> list[str]:
    if not figure:
        return []
    out = [
        f"## 5. Transfer to moto's S3 server: {figure['objects']} objects, {figure['bytes'] / 2**20:,.1f} MiB "
        f"({_rows(figure['rows'])}-row data, processed data, model, plot data)",
        "",
        "`dvc push -r s3remote` into an emptied bucket, then a plain boto3 `upload_file` loop of the very objects "
        "DVC stored (same keys, same bytes); `dvc pull -r s3remote` into a fresh clone with an empty cache, then "
        "a boto3 `download_file` loop of the same keys. Each client is its own process (start-up included); "
        "the server is another.",
        "",
    ]
    out += _table(
        ["What", "Wall (median)", "Samples (s)", "Throughput"],
        [
            [
                name,
                _s(figure[key]["median"]),
                _samples(figure[key]),
                f"{figure['bytes'] / 2**20 / figure[key]['median']:.0f} MiB/s",
            ]
            for name, key in (
                ("`dvc push`", "dvc_push_wall_s"),
                ("boto3 upload", "boto3_upload_wall_s"),
                ("`dvc pull`", "dvc_pull_wall_s"),
                ("boto3 download", "boto3_download_wall_s"),
            )
        ],
    )
    out += [
        "",
        f"Push {figure['push_ratio']:.2f}x, pull {figure['pull_ratio']:.2f}x (target ≤ {figure['target']}x).",
        "",
    ]
    return out
