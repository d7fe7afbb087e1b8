# -*- coding: utf-8 -*-
# Copyright: nvmeof.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network checks from this host toward its NVMe/TCP peers, changing nothing.

``run_checks()`` is the whole job of module ``nvmeof.fleet.fabric_preflight``. Per peer:

- the route the kernel picks (``ip -j route get``): the interface and source address,
  and the interface's MTU from sysfs;
- the path MTU, proved by unfragmentable pings (``ping -M do``) of exactly that size.
  When they get no reply, a small ping tells a path that drops big packets (the
  jumbo-frame mismatch that lets NVMe/TCP connect and then stall on large transfers)
  from a peer that is not reachable at all;
- each TCP port, by one connect from the route's source address.

The host's TCP retransmission counters are read before and after all of it. Peers are
checked on a few threads at once, because each check mostly waits on the network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import ipaddress
import json
import numbers
import re
import socket
import threading

from ansible.module_utils.common.text.converters import to_text

WORKERS = 8
SMALL_PING = 56  # ping's default payload: gets through any MTU a TCP connection could use
MTU_MIN = 68
MTU_MAX = 65535
HEADERS = {4: 28, 6: 48}  # IP header (20 or 40 bytes) and ICMP header (8) within the MTU
SYS_CLASS_NET = "/sys/class/net"
COUNTERS = (
    ("/proc/net/snmp", "Tcp", ("RetransSegs", "OutSegs")),
    ("/proc/net/netstat", "TcpExt", ("TCPLostRetransmit", "TCPSynRetrans", "TCPTimeouts", "TCPFastRetrans")),
)
# iputils: "local error: message too long, mtu=1500" (the kernel knows a smaller path MTU),
# "Frag needed and DF set (mtu = 1500)" (IPv4 hop), "Packet too big: mtu=1500" (IPv6 hop)
_TOO_BIG = re.compile(r"message too long|frag needed|packet too big", re.IGNORECASE)
_TEXT = (str, type(u""))


class PreflightError(Exception):
    """Invalid options: nothing was checked."""


# -- options -------------------------------------------------------------------------------

def _integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _address(option, value, problems):
    """(canonical address, IP version), or (None, None) with the problem added."""
    try:
        if not isinstance(value, _TEXT) or "%" in value:
            raise ValueError(value)  # zones are not taken: peers[].interface names the interface
        parsed = ipaddress.ip_address(to_text(value.strip()))
    except ValueError:
        problems.append("%s: %r is not an IPv4 or IPv6 address" % (option, value))
        return None, None
    return str(parsed), parsed.version


def _peer(index, peer, problems):
    option = "peers[%d]" % index
    if not isinstance(peer, dict):
        problems.append("%s: %r is not a dictionary" % (option, peer))
        return None
    name = peer.get("host")
    if not isinstance(name, _TEXT) or not name.strip():
        problems.append("%s.host: %r is not a host name" % (option, name))
    address, version = _address(option + ".address", peer.get("address"), problems)
    mtu = peer.get("mtu")
    if mtu is not None and (not _integer(mtu) or not MTU_MIN <= mtu <= MTU_MAX):
        problems.append("%s.mtu: %r is not an MTU (%d to %d)" % (option, mtu, MTU_MIN, MTU_MAX))
    ports = []
    for position, port in enumerate(peer.get("ports") or []):
        if not _integer(port) or not 1 <= port <= 65535:
            problems.append("%s.ports[%d]: %r is not a TCP port (1 to 65535)" % (option, position, port))
        elif port not in ports:
            ports.append(port)
    interface = peer.get("interface")
    if interface is not None and (not isinstance(interface, _TEXT) or not interface.strip()):
        problems.append("%s.interface: %r is not an interface name" % (option, interface))
    return {"host": name, "address": address, "version": version, "mtu": mtu, "ports": ports,
            "interface": interface}


def validate(params):
    """The peers to check; raises PreflightError naming every bad option and value at once."""
    problems = []
    if not isinstance(params.get("host"), _TEXT) or not params["host"].strip():
        problems.append("host: %r is not a host name" % (params.get("host"),))
    for option, least in (("ping_count", 1), ("timeout", 1), ("max_retransmissions", 0)):
        value = params.get(option)
        if value is not None and (not _integer(value) or value < least):
            problems.append("%s: %r is not an integer of at least %d" % (option, value, least))
    peers = params.get("peers")
    if not isinstance(peers, list):
        problems.append("peers: %r is not a list" % (peers,))
        peers = []
    checked = [_peer(index, peer, problems) for index, peer in enumerate(peers)]
    if problems:
        raise PreflightError("invalid options, nothing was checked: " + "; ".join(problems))
    return checked


# -- probes ---------------------------------------------------------------------------------

def tcp_connect(address, port, source, timeout):
    """Opens and closes one TCP connection from ``source``; raises what connect() raises."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    connection = socket.socket(family, socket.SOCK_STREAM)
    try:
        connection.settimeout(timeout)
        if source:
            connection.bind((source, 0))
        connection.connect((address, port))
    finally:
        connection.close()


def read_counters(fs):
    """{name: value} of the TCP retransmission counters; those the kernel does not show are left out."""
    counters = {}
    for path, prefix, names in COUNTERS:
        rows = [line.split()[1:] for line in (fs.read(path) or "").splitlines()
                if line.startswith(prefix + ":")]
        if len(rows) < 2:
            continue
        values = dict(zip(rows[0], rows[1]))  # a line of names, then a line of values
        for name in names:
            if name in values and values[name].lstrip("-").isdigit():
                counters[name] = int(values[name])
    return counters


def run_concurrently(items, work, workers=WORKERS):
    """[work(item) for item in items], on up to ``workers`` threads; the first error is raised here."""
    results = [None] * len(items)
    errors = []
    indices = iter(range(len(items)))
    lock = threading.Lock()

    def worker():
        while not errors:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                results[index] = work(items[index])
            except Exception as error:  # pylint: disable=broad-except
                errors.append(error)

    threads = [threading.Thread(target=worker) for dummy in range(min(workers, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _endpoint(address, port):
    return ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)


class _Prober:
    """The checks toward one peer at a time; shared by the threads, so it keeps no per-peer state."""

    def __init__(self, fs, runner, connect, count, timeout, tools):
        self.fs = fs
        self.runner = runner
        self.connect = connect
        self.count = count
        self.timeout = timeout
        self.ip = tools.get("ip", "ip")
        self.ping_command = tools.get("ping", "ping")

    def route(self, address):
        """(interface, source address, None), or (None, None, why there is no route)."""
        rc, out, err = self.runner.run([self.ip, "-j", "route", "get", address], check=False)
        if rc != 0:
            return None, None, (err or out).strip() or "ip route get exited with %d" % rc
        try:
            route = json.loads(out)[0]
            return route["dev"], route.get("prefsrc"), None
        except (ValueError, LookupError, TypeError):
            return None, None, "cannot read the route in the output of ip: %r" % out[:200]

    def ping(self, peer, interface, size):
        family = ["-6"] if peer["version"] == 6 else []
        rc, out, err = self.runner.run(
            [self.ping_command] + family + ["-M", "do", "-s", size, "-c", self.count, "-W", self.timeout,
                                            "-I", interface, peer["address"]], check=False)
        return rc, "%s\n%s" % (out, err)

    def path_mtu(self, peer, interface):
        """(the MTU to prove, None when it is proved or why not)."""
        local_text = self.fs.read("%s/%s/mtu" % (SYS_CLASS_NET, interface), "")
        local = int(local_text) if local_text.isdigit() else None
        mtu = peer["mtu"] or local
        if mtu is None:
            return None, "cannot read the MTU of %s (%s/%s/mtu)" % (interface, SYS_CLASS_NET, interface)
        if local is not None and mtu > local:
            return mtu, "local MTU of %s is %d, smaller than %d" % (interface, local, mtu)
        size = mtu - HEADERS[peer["version"]]
        rc, said = self.ping(peer, interface, size)
        if rc == 0:
            return mtu, None
        too_big = [line.strip() for line in said.splitlines() if _TOO_BIG.search(line)]
        if too_big:
            return mtu, "a hop reports a smaller MTU (%s)" % re.sub(r"^ping: ", "", too_big[0])
        if rc != 1:  # 1 is "no reply"; anything else is ping's own error
            return mtu, "ping failed: %s" % (" ".join(said.split()) or "exit code %d" % rc)
        if size > SMALL_PING and self.ping(peer, interface, SMALL_PING)[0] == 0:
            return mtu, ("unfragmentable %d-byte pings get no reply though small ones do: the peer or a "
                         "switch between has an MTU below %d" % (size, mtu))
        return mtu, "not reachable at all (no reply even to small pings)"

    def port(self, address, source, port):
        """None when ``port`` accepts a connection, else why not."""
        where = _endpoint(address, port)
        try:
            self.connect(address, port, source, self.timeout)
        except (socket.error, OSError) as error:
            # socket.timeout is the timeout given; ETIMEDOUT the kernel's when its SYN retries run out first
            if isinstance(error, socket.timeout) or error.errno == errno.ETIMEDOUT:
                return "no answer from %s within %s s (filtered or unreachable)" % (where, self.timeout)
            if error.errno == errno.ECONNREFUSED:
                return "nothing listens on %s (connection refused)" % where
            return "%s: %s" % (where, error.strerror or error)
        return None

    def check(self, host, peer):
        """The result of one peer: ``messages`` are the problems, ``summary`` one line of them."""
        interface, source, no_route = self.route(peer["address"])
        local = host if interface is None else "%s (%s)" % (host, " ".join(filter(None, (interface, source))))
        pair = "%s -> %s (%s)" % (local, peer["host"], peer["address"])
        entry = {"host": host, "peer": peer["host"], "address": peer["address"], "interface": interface,
                 "source": source, "mtu": peer["mtu"], "ports": peer["ports"], "route_ok": no_route is None,
                 "mtu_ok": None, "ports_ok": dict((port, None) for port in peer["ports"])}
        problems = []
        if no_route is not None:
            problems.append("no route: %s; path MTU and ports not checked" % no_route)
        else:
            if peer["interface"] and interface != peer["interface"]:
                entry["route_ok"] = False
                problems.append("the route leaves by %s, not by the expected %s" % (interface, peer["interface"]))
            entry["mtu"], why = self.path_mtu(peer, interface)
            entry["mtu_ok"] = why is None
            if why:
                problems.append("path MTU%s: %s" % (" %d" % entry["mtu"] if entry["mtu"] else "", why))
            for port in peer["ports"]:
                why = self.port(peer["address"], source, port)
                entry["ports_ok"][port] = why is None
                if why:
                    problems.append("TCP %d: %s" % (port, why))
        entry["ok"] = not problems
        entry["messages"] = ["%s: %s" % (pair, problem) for problem in problems]
        entry["summary"] = "%s: %s" % (pair, "; ".join(problems) or "ok")
        return entry


def _outcomes(entry):
    """The checks of a peer that ran, as True (passed) and False (failed)."""
    return [ok for ok in [entry["route_ok"], entry["mtu_ok"]] + list(entry["ports_ok"].values()) if ok is not None]


def _retransmission_problem(host, delta, limit):
    if "RetransSegs" not in delta:
        return "%s: max_retransmissions cannot be checked: no Tcp RetransSegs in /proc/net/snmp" % host
    if delta["RetransSegs"] > limit:
        return ("%s: TCP retransmitted %d segments during the checks (RetransSegs), more than "
                "max_retransmissions %d" % (host, delta["RetransSegs"], limit))
    return None


def run_checks(fs, runner, params, connect=tcp_connect, tools=None):
    """Runs every check toward ``params["peers"]``; returns the module result without failing.

    ``tools`` maps ``ip`` and ``ping`` to the commands to run (their names by default).
    Raises PreflightError for invalid options, before anything runs.
    """
    peers = validate(params)
    host = params["host"]
    prober = _Prober(fs, runner, connect, params.get("ping_count") or 2, params.get("timeout") or 2, tools or {})
    before = read_counters(fs)
    checks = run_concurrently(peers, lambda peer: prober.check(host, peer))
    after = read_counters(fs)
    delta = dict((name, after[name] - before[name]) for name in after if name in before)

    outcomes = [ok for entry in checks for ok in _outcomes(entry)]
    failures = [message for entry in checks for message in entry["messages"]]
    limit = params.get("max_retransmissions")
    if limit is not None and peers:
        problem = _retransmission_problem(host, delta, limit)
        outcomes.append(problem is None)
        if problem:
            failures.append(problem)
    failed = outcomes.count(False)
    if failed:
        msg = "%d of %d fabric checks failed:\n%s" % (failed, len(outcomes), "\n".join(failures))
    elif peers:
        msg = "all %d fabric checks passed" % len(outcomes)
    else:
        msg = "no peers: nothing to check"
    return {
        "changed": False,
        "msg": msg,
        "checks": checks,
        "failed_checks": failed,
        "total_checks": len(outcomes),
        "retransmissions": {"before": before, "after": after, "delta": delta},
        "summary": [entry.pop("summary") for entry in checks],
    }
