"""tools/timing/phase_clock.py: Molecule's action lines, the phase times, and the untouched output."""

import json
import subprocess
import sys

from tool_modules import TOOLS, load_tool

phase_clock = load_tool("phase_clock", "timing/phase_clock.py")

ARROW = "\u279c"


def action_line(action, message, level="\x1b[36mINFO    \x1b[0m", colour="\x1b[32m"):
    """A line as Molecule 26 prints it on a terminal, colours and all."""
    return f"{level} \x1b[32mdefault\x1b[0m {ARROW} \x1b[33m{action}\x1b[0m: {colour}{message}\x1b[0m"


def executing(action):
    return action_line(action, "Executing", colour="\x1b[36m")


def executed(action, result="Successful", **kwargs):
    return action_line(action, f"Executed: {result}", **kwargs)


# (seconds on the clock, line) of a recorded `molecule test -s default`, shortened.
RECORDED_RUN = [
    (100.0, "\x1b[36mINFO    \x1b[0m \x1b[32mdefault\x1b[0m: Running default > destroy"),
    (100.5, executing("destroy")),
    (103.0, "  \x1b[2m\u2502\x1b[0m PLAY [Destroy the lab VMs] ***"),
    (104.0, executed("destroy")),
    (104.1, executing("syntax")),
    (106.1, executed("syntax")),
    (106.2, executing("create")),
    (147.4, executed("create")),
    (147.5, executing("converge")),
    (210.0, executed("converge")),
    (210.1, executing("idempotence")),
    (250.1, executed("idempotence")),
    (250.2, executing("verify")),
    (280.2, executed("verify", "Failed", level="\x1b[31mERROR   \x1b[0m", colour="\x1b[31m")),
    (280.3, executing("destroy")),
    (290.3, executed("destroy")),
    # The closing DETAILS block repeats the completions without a level: a summary, not actions.
    (290.4, f"\x1b[32mdefault\x1b[0m {ARROW} \x1b[33mconverge\x1b[0m: \x1b[32mExecuted: Successful\x1b[0m"),
    (290.5, "\x1b[32mdefault                   \x1b[0m: \x1b[33mactions=7\x1b[0m"),
]


def clocked(lines, end=None):
    """A PhaseClock fed with lines at their times; end is the clock at end of input."""
    times = iter([time for time, line in lines] + ([end] if end is not None else []))
    clock = phase_clock.PhaseClock("default", clock=lambda: next(times))
    for time, line in lines:
        clock.line(line)
    return clock


def test_action_lines_are_read_through_the_colours():
    parse = phase_clock.parse_action_line
    assert parse(executing("converge")) == ("converge", None)
    assert parse(executed("converge")) == ("converge", "Successful")
    assert parse(executed("verify", "Failed", level="\x1b[31mERROR   \x1b[0m")) == ("verify", "Failed")
    assert parse(executed("side_effect") + "\r") == ("side_effect", "Successful")
    noted = executed("prepare", "Skipped") + " \x1b[2m(prepare playbook not configured)\x1b[0m"
    assert parse(noted) == ("prepare", "Skipped")


def test_lines_without_markup_and_other_lines():
    parse = phase_clock.parse_action_line
    assert parse("INFO     [default > create] Executing") == ("create", None)
    assert parse("WARNING  [default > prepare] Executed: Missing") == ("prepare", "Missing")
    assert parse(f"default {ARROW} converge: Executed: Successful") is None
    assert parse("TASK [Executing something] ***") is None
    assert parse("") is None


def test_a_recorded_run_gives_each_phase_its_time():
    record = clocked(RECORDED_RUN).finish()
    assert record["scenario"] == "default"
    assert record["total_seconds"] == 190.5
    assert [(p["action"], p["seconds"], p["result"]) for p in record["phases"]] == [
        ("destroy-before", 3.5, "Successful"), ("syntax", 2.0, "Successful"),
        ("create", 41.2, "Successful"), ("converge", 62.5, "Successful"),
        ("idempotence", 40.0, "Successful"), ("verify", 30.0, "Failed"),
        ("destroy", 10.0, "Successful")]


def test_a_killed_run_leaves_its_action_unfinished_up_to_the_end_of_input():
    killed = RECORDED_RUN[:8] + [(150.0, "TASK [Start the VMs] ***"), (151.0, executing("converge"))]
    record = clocked(killed, end=170.0).finish()
    assert record["phases"][-1] == {"action": "converge", "seconds": 19.0, "result": "unfinished"}
    assert record["total_seconds"] == 70.0
    # A start while another action is under way closes that one as unfinished.
    restarted = clocked([(1.0, executing("create")), (5.0, executing("destroy"))], end=6.0).finish()
    assert restarted["phases"] == [{"action": "create", "seconds": 4.0, "result": "unfinished"},
                                   {"action": "destroy", "seconds": 1.0, "result": "unfinished"}]


def test_no_input_is_an_empty_record():
    assert clocked([]).finish() == {"scenario": "default", "total_seconds": 0.0, "phases": []}


def test_pump_passes_every_byte_and_feeds_whole_lines():
    chunks = [b"one\ntw", b"o \xff\xfe\n", executing("create").encode()[:9],
              executing("create").encode()[9:] + b"\n", b"no newline at the end"]
    reads, written, seen = iter(chunks + [b""]), [], []

    class Lines:
        line = seen.append

    phase_clock.pump(lambda: next(reads), written.append, Lines)
    assert written == chunks[:-1] + [b"no newline at the end"]
    assert seen == ["one", "two \udcff\udcfe", executing("create"), "no newline at the end"]


def test_pump_goes_on_timing_when_the_reader_has_gone():
    reads, seen = iter([b"a\n", b"b\n", b""]), []

    class Lines:
        line = seen.append

    def broken(_data):
        raise BrokenPipeError

    phase_clock.pump(lambda: next(reads), broken, Lines)
    assert seen == ["a", "b"]


def test_the_filter_copies_its_input_and_writes_the_record(tmp_path):
    text = "\n".join(line for time, line in RECORDED_RUN).encode() + b"\n\xff not UTF-8\n"
    out = tmp_path / "timing" / "default.phases.json"
    run = subprocess.run([sys.executable, str(TOOLS / "timing" / "phase_clock.py"), "--scenario", "default",
                          "--out", str(out)], input=text, capture_output=True, check=True, timeout=60)
    assert run.stdout == text
    record = json.loads(out.read_text())
    assert record["scenario"] == "default"
    assert [(p["action"], p["result"]) for p in record["phases"]] == [
        ("destroy-before", "Successful"), ("syntax", "Successful"), ("create", "Successful"),
        ("converge", "Successful"), ("idempotence", "Successful"), ("verify", "Failed"),
        ("destroy", "Successful")]
    assert [path.name for path in out.parent.iterdir()] == ["default.phases.json"]
