"""tools/timing/report.py: the per-phase table of the scenarios, its sums and shares, and the stages."""

import json

import pytest

from tool_modules import load_tool

report = load_tool("timing_report", "timing/report.py")


def _phases(total, **seconds):
    phases = [{"action": action.replace("_", "-"), "seconds": value, "result": "Successful"}
              for action, value in seconds.items()]
    return {"scenario": "x", "total_seconds": total, "phases": phases}


def _calls(*runs):
    return "".join(json.dumps(dict(zip(("playbook", "seconds", "module_calls", "module_seconds", "reboots",
                                        "reboot_seconds"), run))) + "\n" for run in runs)


@pytest.fixture(name="timing_dir")
def fixture_timing_dir(tmp_path):
    """Two whole scenarios, one killed in converge without calls, one without its phase record."""
    (tmp_path / "default.phases.json").write_text(json.dumps(_phases(
        200.0, destroy_before=4.0, syntax=2.0, create=40.0, converge=60.0, idempotence=30.0, check=20.0,
        verify=25.0, destroy=9.0)))
    (tmp_path / "default.calls.jsonl").write_text(_calls(
        ("create.yml", 38.0, 0, 0.0, 0, 0.0), ("converge.yml", 58.0, 100, 40.0, 0, 0.0),
        ("verify.yml", 24.0, 20, 5.0, 2, 12.0)))
    (tmp_path / "tiering.phases.json").write_text(json.dumps(_phases(
        300.0, destroy_before=6.0, syntax=2.0, create=50.0, prepare=30.0, converge=100.0, idempotence=40.0,
        check=20.0, verify=30.0, destroy=10.0)))
    (tmp_path / "tiering.calls.jsonl").write_text(
        _calls(("converge.yml", 90.0, 50, 30.0, 1, 8.0)) + '{"playbook": "verify.y')
    killed = _phases(100.0, destroy_before=5.0, create=45.0, converge=50.0)
    killed["phases"][-1]["result"] = "unfinished"
    (tmp_path / "faults.phases.json").write_text(json.dumps(killed))
    (tmp_path / "fleet.calls.jsonl").write_text(_calls(("converge.yml", 10.0, 5, 1.0, 0, 0.0)))
    return tmp_path


def test_rows_per_scenario_and_their_sums(timing_dir):
    scenarios = report.load_scenarios(timing_dir)
    assert [scenario["name"] for scenario in scenarios] == ["default", "faults", "fleet", "tiering"]
    rows, sums = report.scenario_rows(scenarios)
    assert report.HEADERS == ["scenario", "create", "prepare", "converge", "idempotence", "check", "verify",
                              "destroy", "other", "total"]
    assert rows == [
        ["default", "40", "-", "60", "30", "20", "25", "13", "12", "200"],
        ["faults", "45", "-", "50", "-", "-", "-", "5", "0", "100"],
        ["fleet (missing)", "-", "-", "-", "-", "-", "-", "-", "-", "-"],
        ["tiering", "50", "30", "100", "40", "20", "30", "16", "14", "300"],
        ["all", "135", "30", "210", "70", "40", "55", "34", "26", "600"]]
    assert sums["total"] == 600.0 and sums["destroy"] == 34.0 and sums["other"] == 26.0


def test_shares_of_boots_reboots_and_module_calls(timing_dir):
    scenarios = report.load_scenarios(timing_dir)
    sums = report.scenario_rows(scenarios)[1]
    lines = report.summary_lines(scenarios, sums)
    # fleet has no phase record and faults no calls log: only default and tiering count calls.
    assert lines[:4] == [
        "boots (create): 135 s = 22.5 % of the Molecule time",
        "reboots: 3 reboots, 20 s = 3.3 %",
        "module calls: 170 calls, 75 s in tasks that ran them = 12.5 %",
        "ansible-playbook: 4 top-level runs, 210 s = 35.0 %"]
    assert lines[4:] == [
        "faults: converge unfinished",
        "faults: no calls log: no ansible-playbook run of it reached its end",
        "fleet: no phase record: the phase clock did not finish, its calls are left out"]


def test_other_is_the_rest_of_the_total_and_never_negative():
    seconds = report.phase_seconds(_phases(10.0, syntax=3.0, create=4.0, side_effect=2.0))
    assert seconds["create"] == 4.0 and seconds["converge"] is None
    assert seconds["other"] == 6.0 and seconds["total"] == 10.0
    assert report.phase_seconds(_phases(1.0, create=4.0))["other"] == 0.0


def test_a_failed_phase_is_noted(tmp_path):
    record = _phases(50.0, create=10.0, verify=30.0)
    record["phases"][1]["result"] = "Failed"
    (tmp_path / "target.phases.json").write_text(json.dumps(record))
    (tmp_path / "target.calls.jsonl").write_text("")
    assert report.load_scenario(tmp_path, "target")["notes"] == ["verify Failed"]


def test_stage_lines(tmp_path):
    stages = tmp_path / "stages.tsv"
    stages.write_text("sanity\tpassed\t120\t0\nmolecule-faults\tFAILED\t849.4\t725\nnot a stage line\n")
    assert report.read_stages(stages) == [["sanity", "passed", "0:00", "120"],
                                          ["molecule-faults", "FAILED", "12:05", "849"]]


def test_main_prints_the_tables_and_writes_markdown(timing_dir, capsys):
    stages = timing_dir / "stages.tsv"
    stages.write_text("units\tpassed\t30\t0\n")
    markdown = timing_dir / "report.md"
    assert report.main([str(timing_dir), "--stages", str(stages), "--markdown", str(markdown)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == report.HEADERS
    assert "\nall                 135       30       210           70     40      55       34     26    600\n" in text
    assert "\nmodule calls: 170 calls" in text and text.endswith("\nunits  passed   0:00       30\n")
    lines = markdown.read_text().splitlines()
    assert lines[0] == "| scenario | create | prepare | converge | idempotence | check | verify | destroy | other | total |"
    assert "| all | 135 | 30 | 210 | 70 | 40 | 55 | 34 | 26 | 600 |" in lines
    assert "- reboots: 3 reboots, 20 s = 3.3 %" in lines and "| units | passed | 0:00 | 30 |" in lines


def test_an_empty_directory_and_a_missing_stages_file(tmp_path, capsys):
    assert report.main([str(tmp_path), "--stages", str(tmp_path / "none.tsv")]) == 0
    text = capsys.readouterr().out
    assert "boots (create): 0 s = - of the Molecule time" in text and "(no stage lines)" in text


def test_wrong_arguments_exit_2(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        report.main([str(tmp_path / "missing")])
    assert stopped.value.code == 2
