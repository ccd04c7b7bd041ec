#!/usr/bin/env python3
"""The example's api: counts requests in redis and says who answered.

GET /        INCR the counter `hits` in redis; answers JSON
             {"host", "version", "count", "sig"}, where sig is the
             HMAC-SHA256 of "<host> <count>" under the secret api_key, so a
             client holding the key can tell the answer came from a real
             replica (the key itself is never sent or logged).
GET /healthz 200 "ok" while the process serves (no redis call: a store
             restart must not take every api replica out of the proxy).

It runs as the service's `user:` (www-data), which reads the secret; started
as root with RUN_AS set, it drops to that user first. Standard library only; redis is
spoken over a plain socket (RESP), one connection per request, so `redis`
is resolved anew each time and a re-created store is found again.
"""
import hashlib
import hmac
import http.server
import json
import os
import pwd
import signal
import socket
import sys
import threading

REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
PORT = int(os.environ.get("PORT", "8000"))
VERSION = os.environ.get("API_VERSION", "1")
KEY_FILE = os.environ.get("API_KEY_FILE", "/run/secrets/api_key")
HOST = socket.gethostname()


def drop_privileges(name):
    """Become `name` (uid, gid, no supplementary groups) if running as root."""
    if os.getuid() != 0 or not name:
        return
    user = pwd.getpwnam(name)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def redis(*args):
    """Runs one redis command and returns its reply (int, str or None)."""
    req = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        req += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as s:
        s.sendall(req)
        f = s.makefile("rb")
        line = f.readline()
    kind, rest = line[:1], line[1:].strip()
    if kind == b":":
        return int(rest)
    if kind == b"+":
        return rest.decode()
    if kind == b"$":
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2].decode()
    raise RuntimeError("redis: " + line.decode(errors="replace").strip())


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if body.startswith("{") else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, "ok\n")
        if self.path != "/":
            return self.reply(404, "not found\n")
        try:
            count = redis("INCR", "hits")
        except (OSError, RuntimeError) as e:
            return self.reply(503, "store unavailable: %s\n" % e.__class__.__name__)
        sig = hmac.new(KEY, ("%s %d" % (HOST, count)).encode(), hashlib.sha256).hexdigest()
        self.reply(200, json.dumps({"host": HOST, "version": VERSION, "count": count, "sig": sig}) + "\n")

    def log_message(self, fmt, *args):
        pass  # one line per request would flood the console log


def main():
    drop_privileges(os.environ.get("RUN_AS", ""))
    global KEY
    try:
        with open(KEY_FILE, "rb") as f:
            KEY = f.read().strip()
    except OSError as e:
        # Exit: an api without its key must not pass its healthcheck.
        sys.exit("api: cannot read %s as uid %d: %s" % (KEY_FILE, os.getuid(), e.strerror))
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    # Stop gracefully: no new connections, and server_close waits for the
    # requests in flight (non-daemon threads), so a replica being replaced
    # never cuts an answer in half. As PID 1 the default actions of SIGTERM
    # and SIGPWR (Incus's stop signal) are ignored, hence the handlers.
    server.daemon_threads = False
    for sig in (signal.SIGTERM, signal.SIGPWR, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
