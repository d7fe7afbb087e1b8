#!/usr/bin/env python
"""Where the time of `make test` went: per Molecule scenario and phase, boots, reboots, module calls.

    report.py DIR [--markdown FILE] [--stages FILE]

DIR holds, per scenario NAME, NAME.phases.json (tools/timing/phase_clock.py) and NAME.calls.jsonl
(the append mode of tools/bench/callback_plugins/bench_counter.py: one line per top-level
ansible-playbook run). Prints one row per scenario: create (the boot), prepare, converge,
idempotence, check, verify, destroy (the one before the boot and the last one), other (syntax,
any other action and Molecule's own time between actions) and total, then a row of sums and the
shares of boots, reboots and module calls in the Molecule time (the sum of the scenario totals).
A scenario whose files are missing is kept and marked. --stages reads tools/run-tests' stage
lines (stage, result, seconds, start offset in seconds; tab-separated). --markdown writes the
same as Markdown. A report, not a test: the exit status is 0 unless the arguments are wrong.
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"
COLUMNS = ("create", "prepare", "converge", "idempotence", "check", "verify", "destroy")
# The destroy of leftovers before the boot and the last destroy share a column.
COLUMN_OF_PHASE = {"destroy-before": "destroy"}
CALL_FIELDS = ("seconds", "module_calls", "module_seconds", "reboots", "reboot_seconds")
HEADERS = ["scenario"] + list(COLUMNS) + ["other", "total"]
STAGE_HEADERS = ["stage", "result", "start", "seconds"]


def _load_tables():
    """bench.py's table renderers, one look for every report of the tools."""
    spec = importlib.util.spec_from_file_location("nvmeof_fleet_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render_table, module.render_markdown_table


def read_phases(path):
    """The phase record of a scenario, None when it is missing or unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_calls(path):
    """The lines of a calls log, None when it is missing; a line cut short by a killed run is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return [line for line in lines if isinstance(line, dict)]


def phase_seconds(record):
    """Seconds per column, "other" being the rest of the total (syntax, gaps between actions)."""
    seconds = dict.fromkeys(COLUMNS, None)
    for phase in record.get("phases", []):
        column = COLUMN_OF_PHASE.get(phase["action"], phase["action"])
        if column in seconds:
            seconds[column] = (seconds[column] or 0.0) + phase["seconds"]
    total = record.get("total_seconds", 0.0)
    seconds["other"] = max(0.0, total - sum(value or 0.0 for value in seconds.values()))
    seconds["total"] = total
    return seconds


def add_up(records, fields):
    """The sum of each field over records (dicts), a missing field counting 0."""
    return {field: sum(record.get(field) or 0 for record in records) for field in fields}


def call_totals(lines):
    """A calls log summed up: every number of CALL_FIELDS, and runs (its lines)."""
    return dict(add_up(lines, CALL_FIELDS), runs=len(lines))


def load_scenario(directory, name):
    """One scenario: its seconds per column (None without a phase record), call totals and notes."""
    record = read_phases(directory / f"{name}.phases.json")
    lines = read_calls(directory / f"{name}.calls.jsonl")
    notes = []
    if record is None:
        notes.append("no phase record: the phase clock did not finish, its calls are left out")
    else:
        notes += [f"{phase['action']} {phase['result']}" for phase in record.get("phases", [])
                  if "fail" in str(phase["result"]).lower() or phase["result"] == "unfinished"]
    if lines is None:
        notes.append("no calls log: no ansible-playbook run of it reached its end")
    counted = record is not None and lines is not None
    return {"name": name, "seconds": phase_seconds(record) if record is not None else None,
            "calls": call_totals(lines if counted else []), "notes": notes}


def load_scenarios(directory):
    """Every scenario that has a phase record or a calls log in directory, by name."""
    names = {path.name[:-len(".phases.json")] for path in directory.glob("*.phases.json")}
    names |= {path.name[:-len(".calls.jsonl")] for path in directory.glob("*.calls.jsonl")}
    return [load_scenario(directory, name) for name in sorted(names)]


def _cell(value):
    return "-" if value is None else f"{value:.0f}"


def scenario_rows(scenarios):
    """Table rows: one per scenario ("(missing)" without a phase record), then the sums."""
    rows, sums = [], dict.fromkeys(HEADERS[1:], 0.0)
    for scenario in scenarios:
        seconds = scenario["seconds"]
        if seconds is None:
            rows.append([scenario["name"] + " (missing)"] + ["-"] * (len(HEADERS) - 1))
            continue
        rows.append([scenario["name"]] + [_cell(seconds[column]) for column in HEADERS[1:]])
        for column in HEADERS[1:]:
            sums[column] += seconds[column] or 0.0
    rows.append(["all"] + [_cell(sums[column]) for column in HEADERS[1:]])
    return rows, sums


def _share(part, whole):
    return "-" if not whole else f"{100.0 * part / whole:.1f} %"


def summary_lines(scenarios, sums):
    """The shares of boots, reboots, module calls and playbook runs in the Molecule time."""
    calls = add_up([scenario["calls"] for scenario in scenarios], CALL_FIELDS + ("runs",))
    whole = sums["total"]
    lines = [
        f"boots (create): {sums['create']:.0f} s = {_share(sums['create'], whole)} of the Molecule time",
        f"reboots: {calls['reboots']} reboots, {calls['reboot_seconds']:.0f} s = {_share(calls['reboot_seconds'], whole)}",
        f"module calls: {calls['module_calls']} calls, {calls['module_seconds']:.0f} s in tasks that ran them"
        f" = {_share(calls['module_seconds'], whole)}",
        f"ansible-playbook: {calls['runs']} top-level runs, {calls['seconds']:.0f} s = {_share(calls['seconds'], whole)}",
    ]
    lines += [f"{scenario['name']}: {note}" for scenario in scenarios for note in scenario["notes"]]
    return lines


def read_stages(path):
    """Stage rows from tools/run-tests' lines; a line it cannot read is left out."""
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        try:
            seconds, start = float(fields[2]), float(fields[3])
        except (IndexError, ValueError):
            continue
        rows.append([fields[0], fields[1], f"{int(start) // 60}:{int(start) % 60:02d}", f"{seconds:.0f}"])
    return rows


def render(scenarios, stages, table, bullet=""):
    """The whole report, its tables drawn by table(headers, rows) and its lines led by bullet."""
    rows, sums = scenario_rows(scenarios)
    parts = [table(HEADERS, rows), "\n".join(bullet + line for line in summary_lines(scenarios, sums))]
    if stages is not None:
        parts.append(table(STAGE_HEADERS, stages) if stages else "(no stage lines)")
    return "\n\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="where the NAME.phases.json and NAME.calls.jsonl files are")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument("--stages", type=Path, help="tools/run-tests' stage lines, shown as a table too")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        parser.error(f"{args.directory} is not a directory")
    render_table, render_markdown_table = _load_tables()
    scenarios = load_scenarios(args.directory)
    stages = None
    if args.stages is not None:
        stages = read_stages(args.stages) if args.stages.is_file() else []
    print(render(scenarios, stages, render_table), end="")
    if args.markdown:
        try:
            args.markdown.write_text(render(scenarios, stages, render_markdown_table, "- "), encoding="utf-8")
        except OSError as error:
            parser.error(f"--markdown: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
