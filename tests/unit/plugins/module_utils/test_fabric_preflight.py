# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fabric_preflight over a fake /proc/net and /sys/class/net, with fake ip, ping and TCP connect."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import socket
import threading

import pytest

from ansible_collections.nvmeof.fleet.plugins.module_utils.network import fabric_preflight
from ansible_collections.nvmeof.fleet.plugins.module_utils.network.fabric_preflight import (
    PreflightError, read_counters, run_checks, run_concurrently, tcp_connect)
from ansible_collections.nvmeof.fleet.plugins.module_utils.host.hostfs import HostFS

PAIR = "initiator1 (eth1 10.90.1.21) -> target1 (10.90.1.11)"

SNMP = """\
Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers
Ip: 2 64 1224317 0 0 0 0 0 1224263
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs \
OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 2204 12 4 55 3 1202311 %d %d 0 77 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 21003 31 0 21360 0 0 0 0 0
"""

NETSTAT = """\
TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled TCPLostRetransmit TCPTimeouts \
TCPFastRetrans TCPSlowStartRetrans TCPSynRetrans TCPOrigDataSent
TcpExt: 0 0 0 0 0 %d 14 41 2 9 1080034
IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets
IpExt: 0 0 0 0 12 0 1703155921 1180043662
"""


def write(fs, path, text):
    real = fs.path(path)
    if not os.path.isdir(os.path.dirname(real)):
        os.makedirs(os.path.dirname(real))
    with open(real, "w") as handle:
        handle.write(text)


def counters(fs, out_segs=1131870, retrans=112, lost=3):
    write(fs, "/proc/net/snmp", SNMP % (out_segs, retrans))
    write(fs, "/proc/net/netstat", NETSTAT % lost)


@pytest.fixture
def fs(tmp_path):
    host = HostFS(str(tmp_path))
    for interface, mtu in (("eth0", 1500), ("eth1", 9000)):
        write(host, "/sys/class/net/%s/mtu" % interface, "%d\n" % mtu)
    counters(host)
    return host


# -- ip and ping as on Debian 12 (iproute2 6.1, iputils 20221126) ----------------------------------

def route(address, dev="eth1", source="10.90.1.21"):
    if ":" in address:
        found = {"dst": address, "from": "::", "dev": dev, "protocol": "kernel", "prefsrc": source,
                 "metric": 256, "flags": [], "pref": "medium"}
    else:
        found = {"dst": address, "dev": dev, "prefsrc": source, "flags": [], "uid": 0, "cache": []}
    return 0, json.dumps([found], separators=(",", ":")) + "\n", ""


NO_ROUTE = (2, "", "RTNETLINK answers: Network is unreachable\n")


def ping(address, size, dev="eth1"):
    """The argument list the module runs."""
    family = ("-6",) if ":" in address else ()
    return ("ping",) + family + ("-M", "do", "-s", str(size), "-c", "2", "-W", "2", "-I", dev, address)


def _head(address, size, source):
    if ":" in address:
        return "PING %s(%s) from %s eth1: %d data bytes\n" % (address, address, source, size)
    return "PING %s (%s) from %s eth1: %d(%d) bytes of data.\n" % (address, address, source, size, size + 28)


def replies(address, size, source="10.90.1.21"):
    lines = ["%d bytes from %s: icmp_seq=%d ttl=64 time=0.4%d ms\n" % (size + 8, address, seq, seq) for seq in (1, 2)]
    return 0, (_head(address, size, source) + "".join(lines) + "\n--- %s ping statistics ---\n"
               "2 packets transmitted, 2 received, 0%% packet loss, time 1002ms\n"
               "rtt min/avg/max/mdev = 0.410/0.415/0.420/0.005 ms\n" % address), ""


def lost(address, size, source="10.90.1.21"):
    return 1, (_head(address, size, source) + "\n--- %s ping statistics ---\n"
               "2 packets transmitted, 0 received, 100%% packet loss, time 1031ms\n\n" % address), ""


def too_long(address, size, source="10.90.1.21"):
    return 1, (_head(address, size, source) + "\n--- %s ping statistics ---\n"
               "2 packets transmitted, 0 received, +2 errors, 100%% packet loss, time 1015ms\n\n" % address), \
        "ping: local error: message too long, mtu=1500\n" * 2


class FakeRunner:
    """Answers by the longest argv prefix: (rc, out, err) or a function of the arguments; records calls."""

    def __init__(self, answers):
        self.answers = dict((tuple(prefix), answer) for prefix, answer in answers.items())
        self.calls = []

    def run(self, args, check=True, data=None):
        args = tuple(str(arg) for arg in args)
        self.calls.append(args)
        matches = [prefix for prefix in self.answers if args[:len(prefix)] == prefix]
        assert matches, "unexpected command %s" % " ".join(args)
        answer = self.answers[max(matches, key=len)]
        return answer(args) if callable(answer) else answer

    def pings(self):
        return [call for call in self.calls if call[0] == "ping"]


class FakeConnect:
    """A TCP connect by (address, port): None accepts, an exception is raised; records calls."""

    def __init__(self, outcomes=None):
        self.outcomes = outcomes or {}
        self.calls = []

    def __call__(self, address, port, source, timeout):
        self.calls.append((address, port, source, timeout))
        outcome = self.outcomes.get((address, port))
        if outcome is not None:
            raise outcome


REFUSED = OSError(errno.ECONNREFUSED, "Connection refused")


def params(*peers, **options):
    result = {"host": "initiator1", "peers": list(peers), "ping_count": 2, "timeout": 2,
              "max_retransmissions": None, "fail_on_error": True}
    result.update(options)
    return result


def peer(name="target1", address="10.90.1.11", **options):
    result = {"host": name, "address": address, "mtu": None, "ports": [], "interface": None}
    result.update(options)
    return result


def healthy(*addresses):
    answers = {}
    for address in addresses:
        answers[("ip", "-j", "route", "get", address)] = route(address)
        answers[ping(address, 8972)] = replies(address, 8972)
    return answers


# -- all well -----------------------------------------------------------------------------------

def test_all_checks_pass(fs):
    runner = FakeRunner(healthy("10.90.1.11", "10.90.1.12"))
    connect = FakeConnect()
    result = run_checks(fs, runner, params(peer(ports=[4420], interface="eth1"),
                                           peer("target2", "10.90.1.12", mtu=9000, ports=[4420])), connect)
    assert result["changed"] is False
    assert (result["failed_checks"], result["total_checks"]) == (0, 6)
    assert result["msg"] == "all 6 fabric checks passed"
    assert result["checks"][0] == {
        "host": "initiator1", "peer": "target1", "address": "10.90.1.11", "interface": "eth1",
        "source": "10.90.1.21", "mtu": 9000, "ports": [4420], "route_ok": True, "mtu_ok": True,
        "ports_ok": {4420: True}, "ok": True, "messages": []}
    assert result["summary"] == [PAIR + ": ok", "initiator1 (eth1 10.90.1.21) -> target2 (10.90.1.12): ok"]
    assert sorted(runner.pings()) == [ping("10.90.1.11", 8972), ping("10.90.1.12", 8972)]
    assert sorted(connect.calls) == [("10.90.1.11", 4420, "10.90.1.21", 2), ("10.90.1.12", 4420, "10.90.1.21", 2)]


def test_no_peers_checks_nothing(fs):
    runner = FakeRunner({})
    result = run_checks(fs, runner, params(max_retransmissions=0), FakeConnect())
    assert (result["failed_checks"], result["total_checks"], result["checks"]) == (0, 0, [])
    assert result["msg"] == "no peers: nothing to check" and runner.calls == []


def test_commands_from_tools(fs):
    runner = FakeRunner({("/usr/sbin/ip", "-j", "route", "get", "10.90.1.11"): route("10.90.1.11"),
                         ("/usr/bin/ping",): replies("10.90.1.11", 8972)})
    result = run_checks(fs, runner, params(peer()), FakeConnect(), tools={"ip": "/usr/sbin/ip", "ping": "/usr/bin/ping"})
    assert result["failed_checks"] == 0
    assert runner.pings() == [] and runner.calls[1] == ("/usr/bin/ping",) + ping("10.90.1.11", 8972)[1:]


def test_results_keep_the_input_order_with_many_peers(fs):
    addresses = ["10.90.%d.%d" % (index // 200, index % 200 + 1) for index in range(40)]
    runner = FakeRunner(healthy(*addresses))
    result = run_checks(fs, runner, params(*[peer("t%d" % index, address) for index, address in enumerate(addresses)]),
                        FakeConnect())
    assert [entry["peer"] for entry in result["checks"]] == ["t%d" % index for index in range(40)]
    assert [entry["address"] for entry in result["checks"]] == addresses


def test_peers_are_checked_eight_at_a_time(fs):
    addresses = ["10.90.1.%d" % index for index in range(1, 17)]
    barrier = threading.Barrier(8, timeout=10)  # breaks unless eight connects wait at once
    running = []

    def connect(address, port, source, timeout):
        running.append(address)
        assert len(running) <= 8
        barrier.wait()
        running.remove(address)

    result = run_checks(fs, FakeRunner(healthy(*addresses)),
                        params(*[peer(address=address, ports=[4420]) for address in addresses]), connect)
    assert result["failed_checks"] == 0 and result["total_checks"] == 48


def test_an_error_in_a_worker_is_raised_to_the_caller():
    def work(item):
        if item == 13:
            raise RuntimeError("boom")
        return item * 2

    assert run_concurrently(list(range(13)), work) == [item * 2 for item in range(13)]
    with pytest.raises(RuntimeError, match="boom"):
        run_concurrently(list(range(20)), work)


# -- path MTU ---------------------------------------------------------------------------------------

def test_local_mtu_smaller_fails_without_pinging(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11", dev="eth0")})
    result = run_checks(fs, runner, params(peer(mtu=9000)), FakeConnect())
    entry = result["checks"][0]
    assert entry["mtu_ok"] is False and entry["route_ok"] is True
    assert entry["messages"] == ["initiator1 (eth0 10.90.1.21) -> target1 (10.90.1.11): path MTU 9000: "
                                 "local MTU of eth0 is 1500, smaller than 9000"]
    assert runner.pings() == []


def test_big_pings_lost_small_ones_answered_is_an_mtu_mismatch(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"),
                         ping("10.90.1.11", 8972): lost("10.90.1.11", 8972),
                         ping("10.90.1.11", 56): replies("10.90.1.11", 56)})
    result = run_checks(fs, runner, params(peer(ports=[4420])), FakeConnect())
    assert (result["failed_checks"], result["total_checks"]) == (1, 3)
    message = ("%s: path MTU 9000: unfragmentable 8972-byte pings get no reply though small ones do: the peer or a "
               "switch between has an MTU below 9000" % PAIR)
    assert result["checks"][0]["messages"] == [message]
    assert result["msg"] == "1 of 3 fabric checks failed:\n" + message
    assert runner.pings() == [ping("10.90.1.11", 8972), ping("10.90.1.11", 56)]


def test_no_reply_even_to_small_pings_is_unreachable(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"),
                         ping("10.90.1.11", 8972): lost("10.90.1.11", 8972),
                         ping("10.90.1.11", 56): lost("10.90.1.11", 56)})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["summary"] == [PAIR + ": path MTU 9000: not reachable at all (no reply even to small pings)"]


def test_a_hop_reporting_a_smaller_mtu_is_named(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"),
                         ping("10.90.1.11", 8972): too_long("10.90.1.11", 8972)})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["checks"][0]["messages"] == [
        PAIR + ": path MTU 9000: a hop reports a smaller MTU (local error: message too long, mtu=1500)"]
    assert len(runner.pings()) == 1


def test_frag_needed_from_a_router_is_named(fs):
    said = (1, "PING 10.90.1.11 (10.90.1.11) from 10.90.1.21 eth1: 8972(9000) bytes of data.\n"
               "From 10.90.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1500)\n", "")
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"), ping("10.90.1.11", 8972): said})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["checks"][0]["messages"][0].endswith(
        "a hop reports a smaller MTU (From 10.90.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1500))")


def test_ping_errors_are_reported(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"),
                         ("ping",): (2, "", "ping: SO_BINDTODEVICE eth1: Operation not permitted\n")})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["checks"][0]["messages"] == [
        PAIR + ": path MTU 9000: ping failed: ping: SO_BINDTODEVICE eth1: Operation not permitted"]


def test_unreadable_interface_mtu_without_a_declared_mtu(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11", dev="bond0")})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["checks"][0]["mtu"] is None and result["checks"][0]["messages"] == [
        "initiator1 (bond0 10.90.1.21) -> target1 (10.90.1.11): path MTU: cannot read the MTU of bond0 "
        "(/sys/class/net/bond0/mtu)"]


def test_ipv6_sizes_and_endpoints(fs):
    address = "fd00:90::11"
    runner = FakeRunner({("ip", "-j", "route", "get", address): route(address, source="fd00:90::21"),
                         ping(address, 8952): lost(address, 8952, "fd00:90::21"),
                         ping(address, 56): replies(address, 56, "fd00:90::21")})
    connect = FakeConnect({(address, 4420): REFUSED})
    result = run_checks(fs, runner, params(peer(address="FD00:90:0::11", ports=[4420])), connect)
    assert runner.pings() == [ping(address, 8952), ping(address, 56)]
    assert runner.pings()[0][:2] == ("ping", "-6")
    assert connect.calls == [(address, 4420, "fd00:90::21", 2)]
    assert result["checks"][0]["messages"] == [
        "initiator1 (eth1 fd00:90::21) -> target1 (fd00:90::11): path MTU 9000: unfragmentable 8952-byte pings "
        "get no reply though small ones do: the peer or a switch between has an MTU below 9000",
        "initiator1 (eth1 fd00:90::21) -> target1 (fd00:90::11): TCP 4420: nothing listens on [fd00:90::11]:4420 "
        "(connection refused)"]


# -- routes -------------------------------------------------------------------------------------

def test_route_by_another_interface_is_a_failure(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11", dev="eth0", source="192.0.2.21"),
                         ping("10.90.1.11", 1472, dev="eth0"): replies("10.90.1.11", 1472, "192.0.2.21")})
    result = run_checks(fs, runner, params(peer(interface="eth1", ports=[4420])), FakeConnect())
    entry = result["checks"][0]
    assert (entry["route_ok"], entry["mtu_ok"], entry["ports_ok"], entry["mtu"]) == (False, True, {4420: True}, 1500)
    assert entry["messages"] == ["initiator1 (eth0 192.0.2.21) -> target1 (10.90.1.11): the route leaves by eth0, "
                                 "not by the expected eth1"]
    assert (result["failed_checks"], result["total_checks"]) == (1, 3)


def test_no_route_skips_the_other_checks(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): NO_ROUTE})
    connect = FakeConnect()
    result = run_checks(fs, runner, params(peer(ports=[4420, 8009], mtu=9000)), connect)
    entry = result["checks"][0]
    assert (entry["interface"], entry["source"], entry["route_ok"], entry["mtu_ok"]) == (None, None, False, None)
    assert entry["ports_ok"] == {4420: None, 8009: None}
    assert entry["messages"] == ["initiator1 -> target1 (10.90.1.11): no route: RTNETLINK answers: Network is "
                                 "unreachable; path MTU and ports not checked"]
    assert (result["failed_checks"], result["total_checks"]) == (1, 1)
    assert runner.pings() == [] and connect.calls == []


# -- TCP ports -------------------------------------------------------------------------------------

def test_port_failures_are_told_apart(fs):
    runner = FakeRunner(healthy("10.90.1.11"))
    connect = FakeConnect({("10.90.1.11", 4420): REFUSED, ("10.90.1.11", 8009): socket.timeout("timed out"),
                           ("10.90.1.11", 4421): OSError(errno.EHOSTUNREACH, "No route to host"),
                           ("10.90.1.11", 4422): OSError(errno.ETIMEDOUT, "Connection timed out")})
    result = run_checks(fs, runner, params(peer(ports=[4420, 8009, 4421, 4422, 4423, 4420])), connect)
    entry = result["checks"][0]
    assert entry["ports"] == [4420, 8009, 4421, 4422, 4423]
    assert entry["ports_ok"] == {4420: False, 8009: False, 4421: False, 4422: False, 4423: True}
    assert entry["messages"] == [
        PAIR + ": TCP 4420: nothing listens on 10.90.1.11:4420 (connection refused)",
        PAIR + ": TCP 8009: no answer from 10.90.1.11:8009 within 2 s (filtered or unreachable)",
        PAIR + ": TCP 4421: 10.90.1.11:4421: No route to host",
        PAIR + ": TCP 4422: no answer from 10.90.1.11:4422 within 2 s (filtered or unreachable)"]
    assert result["msg"].startswith("4 of 7 fabric checks failed:\n" + PAIR + ": TCP 4420:")


class FakeSocket:
    made = []

    def __init__(self, family, kind):
        self.family = family
        self.steps = [("socket", family, kind)]
        FakeSocket.made.append(self)

    def settimeout(self, timeout):
        self.steps.append(("settimeout", timeout))

    def bind(self, address):
        self.steps.append(("bind", address))

    def connect(self, address):
        self.steps.append(("connect", address))
        if address[1] == 4420:
            raise REFUSED

    def close(self):
        self.steps.append(("close",))


def test_tcp_connect_binds_the_source_and_always_closes(monkeypatch):
    monkeypatch.setattr(FakeSocket, "made", [])
    monkeypatch.setattr(fabric_preflight.socket, "socket", FakeSocket)
    tcp_connect("10.90.1.11", 8009, "10.90.1.21", 2)
    with pytest.raises(OSError):
        tcp_connect("fd00:90::11", 4420, None, 3)
    assert FakeSocket.made[0].steps == [
        ("socket", socket.AF_INET, socket.SOCK_STREAM), ("settimeout", 2), ("bind", ("10.90.1.21", 0)),
        ("connect", ("10.90.1.11", 8009)), ("close",)]
    assert FakeSocket.made[1].steps == [
        ("socket", socket.AF_INET6, socket.SOCK_STREAM), ("settimeout", 3), ("connect", ("fd00:90::11", 4420)),
        ("close",)]


# -- retransmissions ------------------------------------------------------------------------------

def test_counters_are_read_by_name(fs):
    assert read_counters(fs) == {"OutSegs": 1131870, "RetransSegs": 112, "TCPLostRetransmit": 3,
                                 "TCPTimeouts": 14, "TCPFastRetrans": 41, "TCPSynRetrans": 9}
    write(fs, "/proc/net/netstat", "IpExt: InNoRoutes\nIpExt: 0\n")
    os.unlink(fs.path("/proc/net/snmp"))
    assert read_counters(fs) == {}


def retransmitting(fs, retrans):
    """A ping answer that makes the host retransmit meanwhile."""
    def answer(args):
        counters(fs, out_segs=1131990, retrans=retrans, lost=4)
        return replies("10.90.1.11", 8972)
    return answer


def test_retransmission_delta_within_the_limit(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"), ("ping",): retransmitting(fs, 117)})
    result = run_checks(fs, runner, params(peer(), max_retransmissions=5), FakeConnect())
    assert result["retransmissions"]["before"]["RetransSegs"] == 112
    assert result["retransmissions"]["after"]["RetransSegs"] == 117
    assert result["retransmissions"]["delta"] == {"OutSegs": 120, "RetransSegs": 5, "TCPLostRetransmit": 1,
                                                  "TCPTimeouts": 0, "TCPFastRetrans": 0, "TCPSynRetrans": 0}
    assert (result["failed_checks"], result["total_checks"]) == (0, 3)


def test_retransmissions_above_the_limit_fail(fs):
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"), ("ping",): retransmitting(fs, 124)})
    result = run_checks(fs, runner, params(peer(), max_retransmissions=5), FakeConnect())
    assert (result["failed_checks"], result["total_checks"]) == (1, 3)
    assert result["checks"][0]["ok"] is True
    assert result["msg"] == ("1 of 3 fabric checks failed:\ninitiator1: TCP retransmitted 12 segments during the "
                             "checks (RetransSegs), more than max_retransmissions 5")


def test_retransmissions_are_reported_without_a_limit_and_missing_counters_are_absent(fs):
    os.unlink(fs.path("/proc/net/netstat"))
    runner = FakeRunner({("ip", "-j", "route", "get"): route("10.90.1.11"), ("ping",): retransmitting(fs, 124)})
    result = run_checks(fs, runner, params(peer()), FakeConnect())
    assert result["retransmissions"]["before"] == {"OutSegs": 1131870, "RetransSegs": 112}
    assert result["retransmissions"]["delta"] == {"OutSegs": 120, "RetransSegs": 12}
    assert result["failed_checks"] == 0 and result["total_checks"] == 2


def test_a_limit_without_the_counter_fails(fs):
    os.unlink(fs.path("/proc/net/snmp"))
    result = run_checks(fs, FakeRunner(healthy("10.90.1.11")), params(peer(), max_retransmissions=0), FakeConnect())
    assert result["msg"].endswith("initiator1: max_retransmissions cannot be checked: no Tcp RetransSegs in "
                                  "/proc/net/snmp")


# -- invalid options -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, said", [
    ({"address": "10.0.0.300"}, "peers[2].address: '10.0.0.300' is not an IPv4 or IPv6 address"),
    ({"address": "10.0.0.1/24"}, "peers[2].address: '10.0.0.1/24' is not an IPv4 or IPv6 address"),
    ({"address": "fe80::1%eth1"}, "peers[2].address: 'fe80::1%eth1' is not an IPv4 or IPv6 address"),
    ({"address": None}, "peers[2].address: None is not an IPv4 or IPv6 address"),
    ({"ports": [4420, 0]}, "peers[2].ports[1]: 0 is not a TCP port (1 to 65535)"),
    ({"ports": [65536]}, "peers[2].ports[0]: 65536 is not a TCP port (1 to 65535)"),
    ({"ports": [True]}, "peers[2].ports[0]: True is not a TCP port"),
    ({"mtu": 67}, "peers[2].mtu: 67 is not an MTU (68 to 65535)"),
    ({"mtu": 65536}, "peers[2].mtu: 65536 is not an MTU (68 to 65535)"),
    ({"host": ""}, "peers[2].host: '' is not a host name"),
    ({"interface": ""}, "peers[2].interface: '' is not an interface name"),
])
def test_invalid_peers_are_refused_before_anything_runs(fs, bad, said):
    runner = FakeRunner({})
    with pytest.raises(PreflightError) as info:
        run_checks(fs, runner, params(peer(), peer("target2", "10.90.1.12"), peer("target3", **bad)), FakeConnect())
    assert said in str(info.value) and runner.calls == []


def test_every_invalid_option_is_named_at_once(fs):
    with pytest.raises(PreflightError) as info:
        run_checks(fs, FakeRunner({}), params(peer(address="10.0.0.300", mtu=40), "x", host="", ping_count=0,
                                              timeout=0, max_retransmissions=-1), FakeConnect())
    assert str(info.value) == (
        "invalid options, nothing was checked: host: '' is not a host name; ping_count: 0 is not an integer of at "
        "least 1; timeout: 0 is not an integer of at least 1; max_retransmissions: -1 is not an integer of at "
        "least 0; peers[0].address: '10.0.0.300' is not an IPv4 or IPv6 address; peers[0].mtu: 40 is not an MTU "
        "(68 to 65535); peers[1]: 'x' is not a dictionary")
