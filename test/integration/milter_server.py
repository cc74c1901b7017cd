"""milter_server.py - a small mail filter (Sendmail milter protocol 6,
the filter's side) written for the tests, on a UNIX socket or a 127.0.0.1
port, in a thread of the test process.

MilterServer(path=... | port=..., **behaviour) records what each
connection sent (commands, macros, headers, body) in .sessions and
answers as told:

  protocol  SMFIP_* flags it asks for at negotiation (skip steps, no
            replies, SMFIP_RCPT_REJ, SMFIP_HDR_LEADSPC, SMFIP_SKIP)
  actions   SMFIF_* it asks for (default: all)
  symlist   {stage: "macro names"} (SMFIF_SETSYMLIST)
  replies   {command letter: reply}, a reply being "accept", "reject",
            "tempfail", "discard", "skip", ("code", "text") for
            SMFIR_REPLYCODE, "hang" (never answer) or "close" (drop the
            connection); the default is continue
  when      a function (session, letter, data) -> reply or None, asked
            before REPLIES
  edits     a function (session) -> list of modification packets
            (letter, bytes) sent before the end-of-message reply
  eom       the end-of-message reply (default continue)

Commands the MTA must not send (the steps the filter skipped) are
recorded too, so a test can see they never came.
"""

import os
import socket
import struct
import threading
import time

# Protocol flags (SMFIP_*) and actions (SMFIF_*)
NOCONNECT, NOHELO, NOMAIL, NORCPT = 0x1, 0x2, 0x4, 0x8
NOBODY, NOHDRS, NOEOH, NR_HDR = 0x10, 0x20, 0x40, 0x80
NOUNKNOWN, NODATA, SKIP, RCPT_REJ = 0x100, 0x200, 0x400, 0x800
NR_CONN, NR_HELO, NR_MAIL, NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
NR_DATA, NR_UNKN, NR_EOH, NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
HDR_LEADSPC = 0x100000
ALL_ACTIONS = 0x1FF

# The command letter each no-reply flag silences
NO_REPLY = {"C": NR_CONN, "H": NR_HELO, "M": NR_MAIL, "R": NR_RCPT,
            "T": NR_DATA, "U": NR_UNKN, "N": NR_EOH, "B": NR_BODY, "L": NR_HDR}
STAGES = {"connect": 0, "helo": 1, "mail": 2, "rcpt": 3, "data": 4,
          "eom": 5, "eoh": 6}


def strings(data):
    """NUL-terminated strings of DATA."""
    return [s.decode("latin-1") for s in data.split(b"\0")[:-1]]


def cstr(*texts):
    return b"".join(t.encode() + b"\0" for t in texts)


class Session:
    """One MTA connection as the filter saw it."""

    def __init__(self):
        self.commands = []		# command letters, in order
        self.macros = {}		# name -> value, all stages merged
        self.connect = None		# (hostname, family, port, address)
        self.helo = None
        self.mail = None		# argv
        self.rcpts = []			# argv of each RCPT
        self.headers = []		# (name, value)
        self.body = b""
        self.unknown = []
        self.closed = False


class MilterServer:
    def __init__(self, path=None, port=None, protocol=0, actions=ALL_ACTIONS,
                 symlist=None, replies=None, when=None, edits=None, eom=None):
        self.protocol = protocol
        self.actions = actions
        self.symlist = symlist or {}
        self.replies = dict(replies or {})
        self.when = when
        self.edits = edits
        self.eom = eom
        self.sessions = []
        self.lock = threading.Lock()
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(path):
                os.unlink(path)
            self.sock.bind(path)
            os.chmod(path, 0o666)
            self.spec = "unix:" + path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", port))
            self.spec = "inet:127.0.0.1:%d" % port
        self.sock.listen(64)
        self.running = True
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def stop(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)	# wakes the accept()
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            session = Session()
            with self.lock:
                self.sessions.append(session)
            threading.Thread(target=self.serve, args=(conn, session),
                             daemon=True).start()

    def wait_sessions(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.sessions) >= n:
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------ protocol

    @staticmethod
    def read_packet(conn):
        head = b""
        while len(head) < 4:
            chunk = conn.recv(4 - len(head))
            if not chunk:
                return None, None
            head += chunk
        (length,) = struct.unpack("!I", head)
        data = b""
        while len(data) < length:
            chunk = conn.recv(length - len(data))
            if not chunk:
                return None, None
            data += chunk
        return chr(data[0]), data[1:]

    @staticmethod
    def send_packet(conn, letter, data=b""):
        conn.sendall(struct.pack("!I", len(data) + 1) + letter.encode() + data)

    def negotiate(self, conn, data):
        version, actions, protocol = struct.unpack("!III", data[:12])
        reply = struct.pack("!III", 6, self.actions & actions, self.protocol & protocol)
        for stage, names in self.symlist.items():
            reply += struct.pack("!I", STAGES[stage]) + cstr(names)
        self.send_packet(conn, "O", reply)

    def record(self, session, letter, data):
        if letter == "D":
            items = strings(data[1:])
            for name, value in zip(items[0::2], items[1::2]):
                session.macros[name] = value
            return
        session.commands.append(letter)
        if letter == "C":
            host, rest = data.split(b"\0", 1)
            family = chr(rest[0])
            port = struct.unpack("!H", rest[1:3])[0] if family != "U" else 0
            addr = rest[3:].rstrip(b"\0").decode() if family != "U" else ""
            session.connect = (host.decode(), family, port, addr)
        elif letter == "H":
            session.helo = strings(data)[0]
        elif letter == "M":
            session.mail = strings(data)
        elif letter == "R":
            session.rcpts.append(strings(data))
        elif letter == "L":
            name, value = strings(data)[:2]
            session.headers.append((name, value))
        elif letter == "B":
            session.body += data
        elif letter == "U":
            session.unknown.append(strings(data)[0])

    def reply_for(self, session, letter, data):
        reply = self.when(session, letter, data) if self.when else None
        if reply is None:
            reply = self.replies.get(letter)
        if letter == "E" and reply is None:
            reply = self.eom
        return reply

    def answer(self, conn, session, letter, reply):
        """Send REPLY; False when the connection is to go."""
        if reply == "hang":
            while self.running:
                time.sleep(0.2)
            return False
        if reply == "close":
            return False
        if letter == "E" and self.edits:
            for mod, payload in self.edits(session):
                self.send_packet(conn, mod, payload)
        if reply is None and self.protocol & NO_REPLY.get(letter, 0):
            return True
        if isinstance(reply, tuple):
            code, text = reply
            self.send_packet(conn, "y", cstr("%s %s" % (code, text)))
            return True
        letters = {None: "c", "accept": "a", "reject": "r", "tempfail": "t",
                   "discard": "d", "skip": "s"}
        self.send_packet(conn, letters[reply])
        return True

    def serve(self, conn, session):
        try:
            while True:
                letter, data = self.read_packet(conn)
                if letter is None or letter == "Q":
                    break
                if letter == "O":
                    self.negotiate(conn, data)
                    continue
                self.record(session, letter, data)
                if letter in "DA":
                    continue
                if not self.answer(conn, session, letter,
                                   self.reply_for(session, letter, data)):
                    break
        except OSError:
            pass
        finally:
            session.closed = True
            conn.close()
