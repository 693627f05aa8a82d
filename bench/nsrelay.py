#!/usr/bin/python3
"""nsrelay.py NETNS|- PORT UPSTREAM_PORT PORTFILE [DELAY_MS [WINDOW]]: a TCP
relay to 127.0.0.1:UPSTREAM_PORT, for bench case 7 (an upload across a
50 ms round trip).

With NETNS, the listening socket is made inside that network namespace
(setns, then back), so clients run with "ip netns exec NETNS" reach
127.0.0.1:PORT there, through the namespace's own loopback where netem
adds the delay; each connection is carried on to the RGW on the host's
loopback.  Nothing is configured in the host's namespace.

With "-" (a kernel without sch_netem, like this VM's), it listens on the
host's 127.0.0.1:PORT and delays the bytes itself: each chunk is passed on
DELAY_MS after it arrived, in each direction, and at most WINDOW bytes
(default 4 MiB, a common TCP window) are held per direction, so a
connection moves at most WINDOW per round trip, as over a real long path.
A new connection waits one round trip before any byte moves (the TCP
handshake).  Bytes pass through unchanged, the Host header too, so SigV4
signatures still verify.  bench/run kills it by its pid; it also exits by
itself after 1800 s.
"""
import collections
import ctypes
import os
import select
import socket
import sys
import threading
import time

CLONE_NEWNET = 0x40000000


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def half_close(b):
    """EOF passed on: b gets no more bytes from us, the other way goes on."""
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def pump(a, b):
    """a -> b at once."""
    buf = bytearray(1 << 18)
    try:
        while True:
            n = a.recv_into(buf)
            if not n:
                break
            b.sendall(memoryview(buf)[:n])
    except OSError:
        close_both(a, b)
        return
    half_close(b)


def delayed_pump(a, b, delay, window):
    """a -> b, each chunk delay seconds late, at most window bytes held."""
    q = collections.deque()
    cv = threading.Condition()
    state = {"held": 0, "eof": False}

    def reader():
        try:
            while True:
                with cv:
                    while state["held"] >= window:
                        cv.wait()
                data = a.recv(1 << 18)
                if not data:
                    break
                with cv:
                    q.append((time.monotonic() + delay, data))
                    state["held"] += len(data)
                    cv.notify_all()
        except OSError:
            pass
        with cv:
            state["eof"] = True
            cv.notify_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        while True:
            with cv:
                while not q and not state["eof"]:
                    cv.wait()
                if not q:
                    break
                due, data = q[0]
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            b.sendall(data)
            with cv:
                q.popleft()
                state["held"] -= len(data)
                cv.notify_all()
    except OSError:
        close_both(a, b)
        return
    half_close(b)
    t.join(timeout=1)


def serve(c, up_port, delay, window):
    try:
        u = socket.create_connection(("127.0.0.1", up_port))
    except OSError:
        c.close()
        return
    for s in (c, u):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if delay:
        time.sleep(2 * delay)
        f = lambda x, y: delayed_pump(x, y, delay, window)
    else:
        f = pump
    t = threading.Thread(target=f, args=(u, c), daemon=True)
    t.start()
    f(c, u)
    t.join()
    c.close()
    u.close()


def main():
    ns, port, up_port, portfile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    delay = float(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 0.0
    window = int(sys.argv[6]) if len(sys.argv) > 6 else 4 << 20
    home = target = None
    if ns != "-":
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/var/run/netns/" + ns, os.O_RDONLY)
        setns(target)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    if home is not None:
        setns(home)	# upstream connections are made on the host's loopback
        os.close(target)
        os.close(home)
    with open(portfile, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    end = time.time() + 1800
    while time.time() < end:
        r, _, _ = select.select([ls], [], [], 1.0)
        if r:
            c, _ = ls.accept()
            threading.Thread(target=serve, args=(c, up_port, delay, window),
                             daemon=True).start()


if __name__ == "__main__":
    main()
