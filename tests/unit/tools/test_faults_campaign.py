"""The pure parts of tools/faults/campaign.py: stalls from fio's IOPS log, recaps, the record's Markdown."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

CAMPAIGN = Path(__file__).resolve().parents[3] / "tools" / "faults" / "campaign.py"
_SPEC = importlib.util.spec_from_file_location("faults_campaign", CAMPAIGN)
campaign = importlib.util.module_from_spec(_SPEC)
sys.modules["faults_campaign"] = campaign
_SPEC.loader.exec_module(campaign)


def test_the_longest_stall_is_the_longest_gap_between_busy_windows():
    log = "\n".join(["1000, 900, 1, 4096, 0", "2000, 850, 1, 4096, 0", "2000, 40, 0, 4096, 0",
                     "3000, 0, 1, 4096, 0", "4000, 0, 1, 4096, 0", "5000, 0, 1, 4096, 0",
                     "6000, 700, 1, 4096, 0", "9000, 10, 1, 4096, 0"])
    # busy at 1, 2, 6 and 9 s: the gaps are 0, 3 s (3..5 logged as zero) and 2 s (7, 8 not logged)
    assert campaign.longest_stall(log) == 3.0


def test_no_stall_and_no_io():
    assert campaign.longest_stall("1000, 5, 1, 4096, 0\n2000, 6, 1, 4096, 0\n") == 0.0
    assert campaign.longest_stall("1000, 0, 1, 4096, 0\n") is None


def test_changed_counts_come_from_the_recap():
    recap = ("PLAY RECAP ****\n"
             "initiator1                 : ok=20   changed=0    unreachable=0    failed=0    skipped=3\n"
             "target1                    : ok=18   changed=2    unreachable=0    failed=0    skipped=1\n")
    assert campaign.changed_counts(recap) == {"initiator1": 0, "target1": 2}
    assert campaign.changed_counts("no recap") == {}


def test_the_killed_play_declares_file_backed_namespaces_on_both_networks(tmp_path):
    declared = json.loads(campaign.killed_play_vars(tmp_path, count=3).read_text())["lab_extra_subsystems"]
    assert declared == [{
        "nqn": campaign.EXTRA_NQN, "hosts": [],
        "namespaces": [{"nsid": nsid, "device_path": "/var/lib/nvmeof-faults/ns-%d.img" % nsid} for nsid in (1, 2, 3)],
        "listeners": [{"address": "10.90.1.11", "service_id": 4430}, {"address": "10.90.2.11", "service_id": 4430}]}]


def test_held_needs_a_clean_workload_and_the_fault_s_own_checks():
    clean = {"fio_exit": 0, "fio_errors": 0, "kernel_io_errors": 0}
    assert campaign.held(dict(clean))["held"] is True
    assert campaign.held(dict(clean), extra_ok=False)["held"] is False
    assert campaign.held(dict(clean, fio_errors=1))["held"] is False
    assert campaign.held(dict(clean, kernel_io_errors=2))["held"] is False
    assert campaign.held(dict(clean, fio_exit=1))["held"] is False
    # 128: fio's status after SIGINT, good only when the campaign sent it
    assert campaign.held(dict(clean, fio_exit=128, fio_stopped=True))["held"] is True
    assert campaign.held(dict(clean, fio_exit=128, fio_stopped=False))["held"] is False
    assert campaign.held(dict(clean, fio_exit=1, fio_stopped=True))["held"] is False


def test_markdown_names_every_fault_its_figures_and_the_totals():
    record = {"date": "2026-11-22", "inventory": "lab/inventory.yml", "device": "/dev/nvme0n1", "workload": "fio x",
              "workload_stop": "SIGINT 15 s after", "paths_when_whole": 6,
              "bad_input": {"unit": {"ran": 149, "held": 149}, "unit_exit": 0,
                            "lab": {"date": "2026-11-22", "ran": 149, "held": 149}},
              "faults": {
                  "target-reboot": {"held": True, "fio_errors": 0, "kernel_io_errors": 0, "longest_stall_s": 71.0,
                                    "duration_s": 240.4, "target_reboot_s": 65.2},
                  "fabric-cuts": {"held": False, "fio_errors": 3, "kernel_io_errors": 1, "longest_stall_s": 9.0,
                                  "duration_s": 230.0},
                  "initiator-reboots": {"held": True, "fio_errors": 0, "kernel_io_errors": 0,
                                        "longest_stall_s": None, "duration_s": 400.0, "rounds": []}}}
    text = campaign.render_markdown(record)
    assert ("Bad input (`tests/bad_input/cases.yml`): fake lab hosts (`make units`): 149 cases ran, 149 held; "
            "real kernels of the faults lab (`molecule test -s faults`, 2026-11-22): 149 cases ran, 149 held.") in text
    assert "| Target rebooted under I/O | yes | 0 | 0 | 71.0 s | 240 s |" in text
    assert "| Storage fabric 2 cut and restored 10 times under I/O | **no** | 3 | 1 | 9.0 s | 230 s |" in text
    assert "| Initiator rebooted 3 times | yes | 0 | 0 | - | 400 s |" in text
    assert "Longest I/O stall over the campaign: 71.0 s. I/O errors over the campaign: 4." in text
    assert '- Target rebooted under I/O: `{"target_reboot_s": 65.2}`' in text


def test_the_section_replaces_its_own_part_only(tmp_path):
    doc = tmp_path / "reliability.md"
    campaign.write_section(doc, "first\n")
    assert doc.read_text() == "%s\nfirst\n%s\n" % (campaign.BEGIN, campaign.END)
    doc.write_text("# Reliability\n\nintro\n\n" + doc.read_text() + "\n## After\n")
    campaign.write_section(doc, "second\n")
    assert doc.read_text() == "# Reliability\n\nintro\n\n%s\nsecond\n%s\n\n## After\n" % (campaign.BEGIN, campaign.END)


def test_bad_input_without_a_lab_run_or_a_unit_summary_says_so():
    assert campaign.bad_input_line({"unit": None, "unit_exit": 2, "lab": None}) == (
        "Bad input (`tests/bad_input/cases.yml`): fake lab hosts (`make units`): no summary (exit 2); "
        "real kernels of the faults lab: not run on this machine.")


def test_the_fio_report_is_found_after_the_lines_of_a_stopped_fio():
    text = "\nfio: terminating on signal 2\n\nfio: terminating on signal 2\n{\n  \"jobs\" : [{\"error\" : 0}]\n}\n"
    assert campaign.fio_report(text) == {"jobs": [{"error": 0}]}
    assert campaign.fio_report('{"jobs": []}') == {"jobs": []}


def test_no_fio_report_is_an_error_that_quotes_the_output():
    with pytest.raises(RuntimeError, match="no such file"):
        campaign.fio_report("fio: no such file\n")


def test_fio_verifies_as_it_writes_and_is_capped_only_when_asked():
    args = campaign.fio_args("cut", "/dev/nvme0n1", 1800)
    assert "--verify=crc32c" in args and "--verify_backlog=256" in args and "--runtime=1800" in args
    assert not [arg for arg in args if arg.startswith("--rate_iops")]
    assert "--rate_iops=100" in campaign.fio_args("play", "/dev/nvme0n1", 1800, rate_iops=100)
    assert "--verify_only" in campaign.fio_args("boot", "/dev/nvme0n1", mode="verify")


def test_a_capped_fault_says_so_and_an_uncapped_one_does_not():
    record = {"date": "2026-11-22", "inventory": "lab/inventory.yml", "device": "/dev/nvme0n1", "workload": "fio x",
              "workload_stop": "SIGINT", "paths_when_whole": 4, "bad_input": {},
              "faults": {"target-reboot": {"held": True, "fio_rate_iops": None, "duration_s": 1},
                         "killed-play": {"held": True, "fio_rate_iops": 100, "duration_s": 1}}}
    text = campaign.render_markdown(record)
    assert '- Target rebooted under I/O: `{}`' in text
    assert '- Play killed while applying a target, then run again: `{"fio_rate_iops": 100}`' in text
