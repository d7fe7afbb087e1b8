"""The pure parts of tools/bench: parsing, ratios, tables and the callback's counting."""

import resource

import pytest

from tool_modules import load_tool

bench = load_tool("bench", "bench/bench.py")
bench_counter = load_tool("bench_counter", "bench/callback_plugins/bench_counter.py")
Outcome = bench_counter.Outcome


# -- parsing ------------------------------------------------------------------------

def test_ansible_version_is_read_from_the_first_line():
    text = "ansible [core 2.19.14]\n  config file = /x/ansible.cfg\n"
    assert bench.parse_ansible_version(text) == "2.19.14"
    assert bench.parse_ansible_version("no version here") is None


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
flags\t\t: fpu vme sse2 vmx
processor\t: 1
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
"""


def test_cpu_model_and_flags():
    assert bench.parse_cpu_model(CPUINFO) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    assert "vmx" in bench.parse_cpu_flags(CPUINFO)
    assert bench.parse_cpu_model("") is None
    assert bench.parse_cpu_flags("") == set()


def test_meminfo_total_in_mib():
    assert bench.parse_meminfo_mib("MemTotal:       24683520 kB\nMemFree: 1 kB\n") == 24105
    assert bench.parse_meminfo_mib("") is None


def test_os_release():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n# comment=x\n\n'
    assert bench.parse_os_release(text) == {"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian"}


@pytest.mark.parametrize("args, accel", [
    (["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max"], "tcg"),
    (["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host"], "kvm"),
    (["qemu", "-machine", "q35,accel=kvm"], "kvm"),
    (["qemu", "-enable-kvm"], "kvm"),
    (["qemu", "-m", "1024"], None),
])
def test_accel_from_the_qemu_command_line(args, accel):
    assert bench.accel_from_cmdline(args) == accel


@pytest.mark.parametrize("args, shape", [
    (["qemu", "-accel", "tcg,thread=multi", "-smp", "2", "-m", "1024M"],
     {"cpus": 2, "memory_mib": 1024, "accel": "tcg"}),
    (["qemu", "-smp", "cpus=4,sockets=1", "-m", "2G,slots=2,maxmem=4G", "-accel", "kvm"],
     {"cpus": 4, "memory_mib": 2048, "accel": "kvm"}),
    (["qemu", "-m", "size=512"], {"cpus": None, "memory_mib": 512, "accel": None}),
])
def test_vm_shape_from_the_qemu_command_line(args, shape):
    assert bench.qemu_shape(args) == shape


INVENTORY = {
    "_meta": {"hostvars": {}},
    "all": {"children": ["ungrouped", "lab_vms"]},
    "lab_vms": {"children": ["nvme_targets", "nvme_initiators"]},
    "nvme_targets": {"hosts": ["target1"]},
    "nvme_initiators": {"hosts": ["initiator1"], "children": ["more"]},
    "more": {"hosts": ["initiator2", "target1"]},
}


def test_group_hosts_follow_children_once():
    assert bench.group_hosts(INVENTORY, "nvme_initiators") == ["initiator1", "initiator2", "target1"]
    assert bench.group_hosts(INVENTORY, "lab_vms") == ["target1", "initiator1", "initiator2"]
    assert bench.group_hosts(INVENTORY, "missing") == []


def test_fleet_hosts_are_the_union_of_the_groups():
    assert bench.fleet_hosts(INVENTORY) == ["target1", "initiator1", "initiator2"]
    cyclic = {"a": {"children": ["b"]}, "b": {"children": ["a"], "hosts": ["h"]}}
    assert bench.group_hosts(cyclic, "a") == ["h"]


def test_listeners_take_each_fabric_s_first_address_without_prefix():
    addresses = ["10.90.1.11/24", ["10.90.2.11/24", "fd90:2::11/64"], [], None]
    assert bench.storage_listeners(addresses) == [
        {"address": "10.90.1.11", "service_id": 4430}, {"address": "10.90.2.11", "service_id": 4430}]
    assert bench.storage_listeners(None) == []
    assert bench.storage_listeners(["fd90::1/64"], 4420) == [{"address": "fd90::1", "service_id": 4420}]


def test_bench_vars_number_the_namespaces_from_one():
    variables = bench.bench_vars("target1", 3, [{"address": "10.0.0.1", "service_id": 4430}], "/d")
    assert variables["bench_target"] == "target1"
    assert variables["bench_nqn"] == "nqn.2026-11.invalid.nvmeof-fleet.bench:scale"
    assert variables["bench_namespaces"] == [
        {"nsid": 1, "device_path": "/d/ns-1.img"}, {"nsid": 2, "device_path": "/d/ns-2.img"},
        {"nsid": 3, "device_path": "/d/ns-3.img"}]
    assert variables["bench_hosts"] == [{"nqn": bench.BENCH_HOST_NQN}]


def test_prepare_output_says_what_the_target_served_already():
    text = "noise\nexisting subsystems=3\nexisting ports=2\n"
    assert bench.parse_existing(text) == {"subsystems": 3, "ports": 2}
    assert bench.parse_existing("") == {}


def test_teardown_output():
    assert bench.parse_teardown("noise\nremoved namespaces=256 ports=2\n") == {"namespaces": 256, "ports": 2}
    assert bench.parse_teardown("") == {}


# -- figures ------------------------------------------------------------------------

def test_ratio_refuses_a_missing_or_zero_denominator():
    assert bench.ratio(3.0, 1.5) == 2.0
    assert bench.ratio(None, 1.0) is None
    assert bench.ratio(1.0, 0) is None
    assert bench.ratio(1.0, None) is None


def test_cpu_seconds_is_user_plus_system_delta():
    before = resource.struct_rusage((1.0, 0.5) + (0,) * 14)
    after = resource.struct_rusage((3.5, 1.25) + (0,) * 14)
    assert bench.cpu_seconds(before, after) == {"cpu_user_s": 2.5, "cpu_sys_s": 0.75, "cpu_s": 3.25}


def _run(wall, cpu, hosts, recap=None, tasks=()):
    return {"wall_s": wall, "cpu_s": cpu,
            "counter": {"hosts": hosts, "recap": recap or {}, "tasks": list(tasks)}}


def test_run_summary_divides_by_the_fleet_and_ignores_other_hosts():
    counts = {"t1": {"modules": 10, "changed": 4, "failed": 0},
              "i1": {"modules": 6, "changed": 2, "failed": 1},
              "elsewhere": {"modules": 100, "changed": 100}}
    summary = bench.run_summary(_run(12.0, 3.0, counts, {"t1": {"changed": 5}, "i1": {"changed": 2}}),
                                ["t1", "i1"])
    assert summary["wall_per_host_s"] == 6.0
    assert summary["cpu_per_host_s"] == 1.5
    assert summary["modules"] == 16 and summary["modules_per_host"] == 8.0
    assert summary["changed"] == 6 and summary["failed"] == 1
    assert summary["recap_changed"] == 7
    assert summary["per_host"]["i1"] == {"modules": 6, "changed": 2}


def test_run_summary_of_a_host_the_callback_never_saw():
    summary = bench.run_summary(_run(2.0, 1.0, {}), ["t1"])
    assert summary["modules"] == 0 and summary["per_host"] == {"t1": {"modules": 0, "changed": 0}}


def test_fleet_ratios_are_per_host_over_the_ping():
    ping = {"wall_per_host_s": 2.0, "cpu_per_host_s": 0.5}
    converge = {"wall_per_host_s": 50.0, "cpu_per_host_s": 10.0}
    noop = {"wall_per_host_s": 40.0, "cpu_per_host_s": 8.0}
    assert bench.fleet_ratios(ping, converge, noop) == {
        "converge_over_ping_wall": 25.0, "converge_over_ping_cpu": 20.0,
        "noop_over_ping_wall": 20.0, "noop_over_ping_cpu": 16.0}
    assert bench.fleet_ratios(ping, None, noop)["converge_over_ping_wall"] is None


def test_nvmet_ratios_by_task_and_by_wall():
    ratios = bench.nvmet_ratios({"task_s": 30.0, "wall_s": 36.0}, {"task_s": 6.0, "wall_s": 12.0}, 3.0)
    assert ratios == {"apply_task_over_floor": 10.0, "apply_wall_over_floor": 12.0,
                      "noop_task_over_floor": 2.0, "noop_wall_over_floor": 4.0}
    assert bench.nvmet_ratios({"wall_s": 1.0}, None, 0)["apply_wall_over_floor"] is None


def test_task_duration_sums_the_module_s_tasks():
    counter = {"tasks": [{"action": "nvmeof.fleet.nvmet_subsystem", "duration": 12.5},
                         {"action": "ansible.builtin.command", "duration": 99.0},
                         {"action": "nvmeof.fleet.nvmet_subsystem", "duration": None}]}
    assert bench.task_duration(counter) == 12.5
    assert bench.task_duration({"tasks": []}) is None
    assert bench.task_duration(None) is None


# -- rendering ----------------------------------------------------------------------

def test_fmt():
    assert bench.fmt(None) == "-"
    assert bench.fmt(1.23456) == "1.23"
    assert bench.fmt(3) == "3"
    assert bench.fmt(True) == "yes"
    assert bench.fmt_ratio(12.345) == "12.35x"
    assert bench.changed_cell(0, True) == "0"
    assert bench.changed_cell(2, True) == "2 NOT 0!"
    assert bench.changed_cell(2, False) == "2"
    assert bench.changed_cell(0, True, 1) == "0 (recap 1) NOT 0!"
    assert bench.changed_cell(3, False, 3) == "3"


def test_table_is_fixed_width_and_right_aligned():
    text = bench.render_table(["run", "wall s"], [["ping", "1.50"], ["converge", "120.00"]])
    lines = text.splitlines()
    assert lines[0] == "run       wall s"
    assert lines[1] == "--------  ------"
    assert lines[2] == "ping        1.50"
    assert lines[3] == "converge  120.00"


def test_markdown_table():
    text = bench.render_markdown_table(["run", "s"], [["a|b", "1"]])
    assert text.splitlines() == ["| run | s |", "| --- | ---: |", "| a\\|b | 1 |"]


def _fleet_data(noop_changed=0):
    def summary(wall, cpu, modules, changed):
        return {"wall_s": wall, "wall_per_host_s": wall / 3, "cpu_s": cpu, "cpu_per_host_s": cpu / 3,
                "modules_per_host": modules, "changed": changed,
                "per_host": {"target1": {"modules": modules, "changed": changed}}}
    return {
        "hosts": ["target1", "initiator1", "initiator2"], "vms": ["initiator1", "initiator2", "target1"],
        "boot": {"wall_s": 61.5},
        "summary": {"ping": summary(6.0, 3.0, 1.0, 0), "converge": summary(300.0, 90.0, 40.0, 30),
                    "noop": summary(240.0, 75.0, 40.0, noop_changed)},
        "ratios": {"converge_over_ping_wall": 50.0, "converge_over_ping_cpu": 30.0,
                   "noop_over_ping_wall": 40.0, "noop_over_ping_cpu": 25.0},
        "noop_clean": noop_changed == 0,
    }


def _nvmet_data():
    return {
        "target": "target1", "namespaces": 256, "existing": {"subsystems": 3, "ports": 2},
        "listeners": [{"address": "10.90.1.11", "service_id": 4430}],
        "module_apply": {"wall_s": 40.0, "task_s": 33.0, "changed": 1},
        "module_noop": {"wall_s": 12.0, "task_s": 6.0, "changed": 0},
        "module_absent": {"wall_s": 20.0, "task_s": 14.0, "changed": 1},
        "floor": {"wall_s": 2.0},
        "ssh_true": [{"wall_s": 0.3}, {"wall_s": 0.2}, {"wall_s": 0.4}],
        "ratios": {"apply_task_over_floor": 16.5, "apply_wall_over_floor": 20.0,
                   "noop_task_over_floor": 3.0, "noop_wall_over_floor": 6.0},
        "noop_clean": True,
    }


def _data(**overrides):
    data = {"date": "2026-11-02T10:00:00+00:00", "ansible_core": "2.19.14", "hosts": 3,
            "machine": {"cpu_model": "Some CPU", "cores": 2, "memory_mib": 24105, "kvm_usable": False,
                        "accel": "tcg", "host_kernel": "6.1.0-1-amd64", "debian_version": "12.7"},
            "guest_kernels": {"target1": "6.1.0-26-amd64", "initiator1": "6.12.9-amd64"},
            "vms": {"target1": {"cpus": 2, "memory_mib": 1024, "accel": "tcg"}},
            "fleet": _fleet_data(), "nvmet": _nvmet_data()}
    data.update(overrides)
    return data


def test_fleet_rows_flag_a_no_op_that_changed():
    rows = bench.fleet_rows(_fleet_data(noop_changed=2))
    assert [row[0] for row in rows] == ["ping (floor)", "converge", "no-op re-run"]
    assert rows[0][-2:] == ["1.00x", "1.00x"]
    assert rows[1][-2:] == ["50.00x", "30.00x"]
    assert rows[2][6] == "2 NOT 0!"
    assert bench.fleet_rows(_fleet_data())[2][6] == "0"


def test_nvmet_rows():
    rows = bench.nvmet_rows(_nvmet_data())
    assert rows[0] == ["module apply", "40.00", "33.00", "1", "16.50x", "20.00x"]
    assert rows[1] == ["module no-op re-run", "12.00", "6.00", "0", "3.00x", "6.00x"]
    assert rows[3][0] == "floor: sh over one ssh"
    assert rows[4] == ["ssh round trip (true, median of 3)", "0.30", "-", "-", "-", "-"]


def test_text_and_markdown_carry_date_machine_and_tables():
    data = _data()
    text = bench.render_text(data)
    assert "2026-11-02T10:00:00+00:00" in text and "Some CPU, 2 cores" in text
    assert "accel tcg" in text and "ansible-core 2.19.14" in text
    assert "boot of 3 VM(s) from fresh overlays 61.50 s" in text
    assert "VMs: initiator1 6.12.9-amd64, target1 6.1.0-26-amd64 (2 vCPU, 1024 MiB)" in text
    assert "the target already served 3 subsystem(s) on 2 port(s)" in text
    markdown = bench.render_markdown(data)
    assert markdown.startswith("# nvmeof.fleet benchmark\n")
    assert "## Fleet" in markdown and "## nvmet_subsystem at scale" in markdown
    assert "## How measured" in markdown
    assert "not idempotent" not in markdown


def test_markdown_of_skipped_parts_and_of_a_changing_no_op():
    markdown = bench.render_markdown(_data(fleet=None))
    assert "## Fleet" not in markdown and "## nvmet_subsystem at scale" in markdown
    markdown = bench.render_markdown(_data(fleet=_fleet_data(noop_changed=1), nvmet=None))
    assert "not idempotent" in markdown and "## nvmet_subsystem" not in markdown


# -- the callback's counting ----------------------------------------------------------

@pytest.mark.parametrize("action", [
    "set_fact", "ansible.builtin.assert", "ansible.legacy.debug", "ansible.builtin.fail", "meta",
    "ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_role",
    "ansible.builtin.import_role", "ansible.builtin.include_vars", "ansible.builtin.add_host",
    "ansible.builtin.group_by", "ansible.builtin.pause", "ansible.builtin.validate_argument_spec", "ansible.builtin.set_stats",
])
def test_controller_actions_run_no_module(action):
    assert bench_counter.module_host("target1", action) is None


def test_module_host_follows_delegation():
    module_host = bench_counter.module_host
    assert module_host("target1", "ansible.builtin.command") == "target1"
    assert module_host("target1", "nvmeof.fleet.nvmet_subsystem") == "target1"
    assert module_host("target1", "ansible.builtin.command", delegate_to="localhost") is None
    assert module_host("target1", "ansible.builtin.command", delegate_to="127.0.0.1") is None
    assert module_host("target1", "ansible.builtin.command", delegate_to="ctl",
                       delegated_connection="local") is None
    assert module_host("target1", "ansible.builtin.command", delegate_to="initiator1",
                       delegated_connection="ssh") == "initiator1"
    assert module_host("localhost", "ansible.builtin.command") is None
    # a collection's module named like a builtin controller action is still a module
    assert module_host("target1", "community.general.debug") == "target1"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_counter_counts_results_and_times_tasks():
    clock = Clock()
    counter = bench_counter.BenchCounter(clock)
    clock.now = 101.0
    counter.task_start("u1", "Gathering Facts", "ansible.builtin.gather_facts")
    counter.host_start("u1", "t1")
    counter.host_start("u1", "i1")
    clock.now = 103.0
    counter.result("u1", Outcome("t1", "ok", "ansible.builtin.gather_facts"))
    clock.now = 104.5
    counter.result("u1", Outcome("i1", "ok", "ansible.builtin.gather_facts"))
    counter.task_start("u2", "Write", "ansible.builtin.copy")
    counter.host_start("u2", "t1")
    counter.host_start("u2", "i1")
    clock.now = 106.0
    counter.result("u2", Outcome("t1", "ok", "ansible.builtin.copy", changed=True))
    counter.result("u2", Outcome("i1", "skipped", "ansible.builtin.copy"))
    counter.task_start("u3", "Facts", "ansible.builtin.set_fact")
    counter.result("u3", Outcome("t1", "ok", "ansible.builtin.set_fact"))
    counter.result("u3", Outcome("i1", "failed", "ansible.builtin.command"))
    report = counter.report({"t1": {"changed": 1}})
    assert report["hosts"]["t1"] == {"modules": 2, "ok": 2, "changed": 1, "failed": 0, "skipped": 0,
                                     "unreachable": 0, "controller": 1}
    assert report["hosts"]["i1"]["modules"] == 2 and report["hosts"]["i1"]["failed"] == 1
    assert report["hosts"]["i1"]["skipped"] == 1
    first = report["tasks"][0]
    assert (first["start"], first["end"], first["duration"]) == (1.0, 4.5, 3.5)
    assert first["hosts"]["t1"]["duration"] == 2.0 and first["modules"] == 2
    assert report["tasks"][1]["changed"] == 1
    assert report["recap"] == {"t1": {"changed": 1}}
    assert report["duration"] == 6.0


def test_counter_counts_loop_items_once_each_and_not_the_final_result():
    counter = bench_counter.BenchCounter(Clock())
    counter.task_start("u", "Loop", "ansible.builtin.command")
    counter.host_start("u", "t1")
    counter.result("u", Outcome("t1", "ok", "ansible.builtin.command", changed=True, item=True))
    counter.result("u", Outcome("t1", "ok", "ansible.builtin.command", changed=False, item=True))
    counter.result("u", Outcome("t1", "skipped", "ansible.builtin.command", item=True))
    counter.result("u", Outcome("t1", "failed", "ansible.builtin.command", item=True))
    counter.result("u", Outcome("t1", "failed", "ansible.builtin.command", changed=True))
    counts = counter.report()["hosts"]["t1"]
    assert counts["modules"] == 3 and counts["ok"] == 2 and counts["failed"] == 1
    assert counts["changed"] == 1 and counts["skipped"] == 1
    entry = counter.report()["tasks"][0]["hosts"]["t1"]
    assert entry["items"] == 4 and entry["status"] == "failed"


def test_counter_unreachable_and_delegated_results():
    counter = bench_counter.BenchCounter(Clock())
    counter.result("u1", Outcome("i1", "unreachable", "ansible.builtin.command"))
    counter.result("u2", Outcome("t1", "ok", "ansible.builtin.command", changed=True,
                                 delegate_to="localhost", delegated_connection="local"))
    counter.result("u3", Outcome("t1", "ok", "ansible.builtin.command", changed=True,
                                 delegate_to="i2", delegated_connection="ssh"))
    hosts = counter.report()["hosts"]
    assert hosts["i1"]["unreachable"] == 1 and hosts["i1"]["modules"] == 0
    assert hosts["t1"]["controller"] == 1 and hosts["t1"]["modules"] == 0
    assert hosts["i2"]["modules"] == 1 and hosts["i2"]["changed"] == 1


def test_a_handler_that_runs_twice_restarts_its_host_timing():
    clock = Clock()
    counter = bench_counter.BenchCounter(clock)
    counter.task_start("h", "Restart", "ansible.builtin.service")
    counter.host_start("h", "t1")
    clock.now = 102.0
    counter.result("h", Outcome("t1", "ok", "ansible.builtin.service", changed=True))
    clock.now = 110.0
    counter.host_start("h", "t1")
    clock.now = 111.0
    counter.result("h", Outcome("t1", "ok", "ansible.builtin.service", changed=True))
    report = counter.report()
    assert report["hosts"]["t1"]["modules"] == 2
    assert report["tasks"][0]["hosts"]["t1"]["duration"] == 1.0
    assert len(report["tasks"]) == 1


def test_write_json_replaces_the_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    bench_counter.write_json(str(path), {"a": 1})
    assert path.read_text() == '{\n "a": 1\n}\n'
    assert [entry.name for entry in tmp_path.iterdir()] == ["out.json"]
