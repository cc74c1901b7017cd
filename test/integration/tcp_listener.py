"""tcp_listener.py - the listening half of the tests' fake TCP servers.

    class NextHop(TcpListener):
        def __init__(self, ...):
            ...own state...
            super().__init__(backlog=32)      # last: the accept thread starts
        def serve(self, conn): ...           # one connection, in its own thread

TcpListener binds ADDR (127.0.0.1) on PORT (0: a free one; a given port
is bound with SO_REUSEADDR, for a second server on the same port), and
accepts in a daemon thread; each connection goes to accepted(conn),
which by default runs serve(conn) in a daemon thread of its own.
close() wakes the accept thread and closes the socket.  make_test_cert()
makes a self-signed certificate and key for a server's STARTTLS.  Used
by the fake next hops of test_smtp_client.py, test_smtp_conncache.py,
test_qmgr_fairness.py and test_dead_destination.py.
"""

import os
import socket
import subprocess
import threading


class TcpListener:
    def __init__(self, addr="127.0.0.1", port=0, backlog=16):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if port:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes the accept thread
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def accepted(self, conn):
        threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        raise NotImplementedError

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted(conn)


def make_test_cert(directory, common_name):
    """A self-signed RSA certificate and key in DIRECTORY, readable by
    every user (the server may run as another); (cert path, key path)."""
    cert = os.path.join(str(directory), "cert.pem")
    key = os.path.join(str(directory), "key.pem")
    subprocess.check_call(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                           "-keyout", key, "-out", cert, "-days", "2",
                           "-subj", "/CN=" + common_name],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o644)
    os.chmod(str(directory), 0o755)
    return cert, key
