"""tools/run-tests: which stages run together and in what order."""

import importlib.machinery
import importlib.util

from tool_modules import TOOLS


def load_runner():
    loader = importlib.machinery.SourceFileLoader("run_tests", str(TOOLS / "run-tests"))
    spec = importlib.util.spec_from_loader("run_tests", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


RUNNER = load_runner()


def test_image_beside_the_static_stages_then_scenarios_longest_first():
    jobs = RUNNER.plan_jobs(["sanity", "compat", "lint", "units", "molecule-default", "molecule-faults",
                             "molecule-tiering", "molecule-fleet"])
    assert jobs == [["image"], ["sanity", "compat", "lint", "units"], ["molecule-faults"], ["molecule-fleet"],
                    ["molecule-tiering"], ["molecule-default"]]


def test_an_unknown_scenario_is_taken_as_the_longest_and_no_scenario_needs_no_image():
    assert RUNNER.plan_jobs(["units", "molecule-default", "molecule-new"]) == [
        ["image"], ["units"], ["molecule-new"], ["molecule-default"]]
    assert RUNNER.plan_jobs(["sanity", "units"]) == [["sanity", "units"]]


def test_only_scenarios_pass_the_phase_clock_and_count_their_calls(monkeypatch):
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
    command = RUNNER.stage_command("molecule-target")
    assert command.startswith("set -o pipefail; make --no-print-directory molecule-target 2>&1 | ")
    assert "phase_clock.py --scenario target --out " in command and command.endswith("target.phases.json")
    env = RUNNER.stage_environment("molecule-target")
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "ansible.posix.profile_tasks,bench_counter"
    assert env["TEST_TIMING_LOG"].endswith("build/timing/target.calls.jsonl")
    assert RUNNER.stage_command("units") == "set -o pipefail; make --no-print-directory units 2>&1"
    assert "TEST_TIMING_LOG" not in RUNNER.stage_environment("units")


def test_the_stages_file_lists_stages_in_start_order(tmp_path):
    path = tmp_path / "stages.tsv"
    RUNNER.write_stages([("molecule-b", "FAILED", 20.4, 30.0), ("molecule-a", "passed", 10.0, 0.2)], path)
    assert path.read_text() == "molecule-a\tpassed\t10\t0\nmolecule-b\tFAILED\t20\t30\n"
