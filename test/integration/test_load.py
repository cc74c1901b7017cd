"""test_load.py - many concurrent clients: each is greeted or told 421.

Opens N connections at once from one process (non-blocking sockets and
a selector, no threads): N = 1000 when the open-files limit can be raised
far enough, else 200.  Every client must get "220" or "421" within 10
seconds while all connections stay open; then all send QUIT.
"""

import errno
import resource
import selectors
import socket
import time


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return True
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return False
    return target >= want


def client_count():
    return 1000 if raise_nofile(2300) else 200


def open_all(port, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        assert err in (0, errno.EINPROGRESS), errno.errorcode.get(err, err)
        socks.append(s)
    return socks


def read_first_lines(socks, timeout):
    """Map socket -> first reply line (bytes) or an error string."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    result = {}
    deadline = time.monotonic() + timeout
    while len(result) < len(socks):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                chunk = None
                result[s] = "error: %s" % e
            if chunk == b"":
                result[s] = "closed: %r" % bufs[s]
            elif chunk:
                bufs[s] += chunk
                if b"\n" in bufs[s]:
                    result[s] = bufs[s].split(b"\n", 1)[0]
            if s in result:
                sel.unregister(s)
    sel.close()
    return result


def test_many_concurrent_clients(instance):
    inst = instance
    n = client_count()
    socks = open_all(inst.port, n)
    try:
        t0 = time.monotonic()
        first = read_first_lines(socks, 10)
        elapsed = time.monotonic() - t0
        codes = {}
        bad = []
        for s in socks:
            line = first.get(s, "timeout")
            if isinstance(line, bytes) and line[:3] in (b"220", b"421"):
                codes[line[:3]] = codes.get(line[:3], 0) + 1
            else:
                bad.append(line)
        assert not bad, "%d of %d clients not served within 10s (%.1fs): %s" % (
            len(bad), n, elapsed, bad[:5])
        assert codes.get(b"220", 0) > 0
        greeted = [s for s in socks if first[s].startswith(b"220")]
        for s in greeted:
            try:
                s.send(b"QUIT\r\n")
            except OSError:
                pass
        replies = read_first_lines(greeted, 10)
        not_quit = [replies.get(s, "timeout") for s in greeted
                    if not (isinstance(replies.get(s), bytes) and replies[s].startswith(b"221"))]
        assert not not_quit, "%d QUITs not answered: %s" % (len(not_quit), not_quit[:5])
        print("clients=%d greeted=%d rejected=%d in %.2fs" % (
            n, codes.get(b"220", 0), codes.get(b"421", 0), elapsed))
    finally:
        for s in socks:
            s.close()
    assert inst.greets(), "server unusable after the load"
    inst.send("alice@posthorn.test", b"Subject: after load\r\n\r\nx\r\n")
    assert inst.wait_for_message(b"Subject: after load", "alice") is not None
