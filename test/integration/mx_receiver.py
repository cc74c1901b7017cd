"""mx_receiver.py - a tiny SMTP receiver for the MX tests, run as a
separate process (it may have to run inside a network namespace).

Usage: python3 mx_receiver.py ADDRESS PORT MODE OUTDIR
MODE "accept" stores each message as OUTDIR/msg-N.eml; "refuse" greets
with 554 and closes.  It writes OUTDIR/ready once it listens and runs
until killed.
"""

import os
import socketserver
import sys
import threading

COUNTER = [0]
LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        if self.server.mode == "refuse":
            self.reply("554 5.3.2 mx.example.test Service refused")
            return
        self.reply("220 mx.example.test ESMTP test receiver")
        rcpts = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 mx.example.test")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpts.append(cmd)
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    dl = self.rfile.readline(100000)
                    if not dl or dl == b".\r\n":
                        break
                    data.append(dl[1:] if dl.startswith(b"..") else dl)
                with LOCK:
                    COUNTER[0] += 1
                    n = COUNTER[0]
                path = os.path.join(self.server.outdir, "msg-%d.eml" % n)
                with open(path + ".tmp", "wb") as f:
                    f.write(b"".join(data))
                os.rename(path + ".tmp", path)
                self.reply("250 2.0.0 Ok: queued as TEST%d" % n)
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("250 2.0.0 Ok")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    address, port, mode, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    server = Server((address, port), Handler)
    server.mode = mode
    server.outdir = outdir
    with open(os.path.join(outdir, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    server.serve_forever()


if __name__ == "__main__":
    main()
