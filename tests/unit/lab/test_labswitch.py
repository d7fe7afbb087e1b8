import socket

import labswitch

BROADCAST = b"\xff" * 6


def frame(destination, source, payload=b"x" * 50):
    return destination + source + b"\x08\x00" + payload


def test_switch_floods_unknown_and_forwards_learned_unicast(tmp_path):
    directory = str(tmp_path)
    fabric = labswitch.Fabric(directory, "fabric0", ["a", "b", "c"])
    peers = {}
    for name in "abc":
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        peer.bind(labswitch.vm_socket(directory, "fabric0", name))
        peer.settimeout(1)
        peers[name] = peer
    switch_address = labswitch.fabric_socket(directory, "fabric0")
    mac = {name: bytes([0x52, 0x54, 0, 0, 0, i]) for i, name in enumerate("abc")}

    def deliver(sender, data):
        peers[sender].sendto(data, switch_address)
        fabric.forward()

    deliver("a", frame(BROADCAST, mac["a"]))          # flooded to b and c
    assert peers["b"].recv(100)[6:12] == mac["a"]
    assert peers["c"].recv(100)[6:12] == mac["a"]

    deliver("b", frame(mac["a"], mac["b"]))           # a is known: only a gets it
    assert peers["a"].recv(100)[6:12] == mac["b"]
    peers["c"].settimeout(0.2)
    try:
        leaked = peers["c"].recv(100)
    except socket.timeout:
        leaked = None
    assert leaked is None

    big = frame(mac["b"], mac["a"], b"j" * 9000)       # jumbo frames pass whole
    deliver("a", big)
    assert peers["b"].recv(65536) == big


def test_frames_to_a_vm_that_is_not_running_are_dropped(tmp_path):
    directory = str(tmp_path)
    fabric = labswitch.Fabric(directory, "fabric1", ["up", "down"])
    up = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    up.bind(labswitch.vm_socket(directory, "fabric1", "up"))
    up.sendto(frame(BROADCAST, b"\x52\x54\x00\x00\x00\x01"), labswitch.fabric_socket(directory, "fabric1"))
    fabric.forward()  # must not raise although "down" has no socket
