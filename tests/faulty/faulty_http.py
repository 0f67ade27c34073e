#!/usr/bin/env python3
"""A faulty HTTP server for the unit test tests/unit/test_faulty.c.

It imitates the three kinds of server flinkops talks to over HTTP -- the
Kubernetes API server (k8s/client.c), a Flink JobManager's REST API
(flink/rest.c) and a store serving job jars over https:// or as a path-style
S3 endpoint (flink/jar.c) -- at the moment they misbehave: a body cut short
of its Content-Length, a body far over the client's limit, a chunked stream
that never ends, headers followed by silence, invalid JSON, an HTML page
where JSON belongs, a redirect to another host, and (with --tls-cert) a
certificate issued for another name.

A real server cannot be made to do any of this on demand. kube-apiserver,
Flink and S3-compatible stores always finish what they announce, send
well-formed JSON (or the object's bytes) with the right Content-Type, never
redirect an API call and present the certificate made for their own name.
These replies come from what stands between them and flinkops -- a proxy or
load balancer that dies mid-answer, an ingress serving its login page, a
half-open connection, a DNS or certificate mix-up -- at moments no test can
choose. DESIGN.md allows a test double only for such faults; this one sits
behind the same HTTP interface and answers every request with its one fault
(mode `ok` answers correctly, the control that shows the clients work).

Usage:
  faulty_http.py MODE --port-file F [--tls-cert C --tls-key K] [--lifetime S] [--log F]
  faulty_http.py certs DIR     make a CA, a certificate for localhost/127.0.0.1 and one
                               for wrong.example, signed by the CA (needs openssl)

It listens on 127.0.0.1 only: a plain HTTP port, and with --tls-cert an
HTTPS port as well; F gets "HTTP_PORT HTTPS_PORT" (0 when there is none)
once both listen. It exits by itself after --lifetime seconds (default 60),
and every loop that sends or waits ends at that deadline or as soon as the
client goes away. Python 3 standard library only.
"""

import argparse
import http.server
import io
import json
import os
import select
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import zipfile

MODES = ("ok", "truncated", "toobig", "stream-fast", "stream-slow", "stall", "badjson", "html", "redirect")

# What a redirect carries in its query string; a client message must never show it.
REDIRECT_SECRET = "faulty-redirect-secret"


def small_jar():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: Faulty\r\n\r\n")
    return buf.getvalue()


JAR = small_jar()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faulty"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.answer()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    # ---- helpers ----

    def deadline(self):
        return self.server.deadline

    def record(self):
        log = self.server.log
        if not log:
            return
        auth = self.headers.get("Authorization", "")
        scheme = auth.split(" ", 1)[0] if auth else "-"
        with self.server.log_lock, open(log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, scheme))

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        # bounded: the clients send small JSON documents
        self.body = self.rfile.read(min(n, 1 << 20)) if n > 0 else b""

    def head(self, status, ctype, length=None, chunked=False, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def client_gone(self, wait):
        """Wait up to `wait` seconds; True when the client closed the connection."""
        try:
            r, _, _ = select.select([self.connection], [], [], wait)
            if not r:
                return False
            if isinstance(self.connection, ssl.SSLSocket):
                return self.connection.recv(1) == b""
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def good(self):
        """The correct answer for the request: (content type, body, extra headers)."""
        path, _, query = self.path.partition("?")
        if path.endswith(".jar"):
            return "application/java-archive", JAR, [("ETag", '"faulty-1"')]
        if path.startswith("/api/") or path.startswith("/apis/"):
            if self.command == "PATCH":
                # the body as it arrived, for the client's tests to read
                obj = {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": path.rsplit("/", 1)[-1], "namespace": "default",
                                    "resourceVersion": "1",
                                    "annotations": {"request-body": self.body.decode("utf-8", "replace")}}}
            elif "limit=" in query:
                obj = {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": "1"},
                       "items": [{"metadata": {"name": "cm", "namespace": "default"}, "data": {"a": "b"}}]}
            else:
                obj = {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": path.rsplit("/", 1)[-1], "namespace": "default"}, "data": {"a": "b"}}
            return "application/json", json.dumps(obj).encode(), []
        if path.endswith("/jobs/overview"):
            return "application/json; charset=UTF-8", b'{"jobs":[]}', []
        return "application/json; charset=UTF-8", b"{}", []

    # ---- the modes ----

    def answer(self):
        self.record()
        self.read_body()
        self.close_connection = True
        try:
            getattr(self, "mode_" + self.server.mode.replace("-", "_"))()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up, as it should

    def mode_ok(self):
        ctype, body, extra = self.good()
        self.head(200, ctype, len(body), extra=extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def mode_truncated(self):
        # the whole answer would be valid (JSON may end in spaces; a zip may
        # carry trailing bytes); a quarter of it comes, then the connection ends
        ctype, body, _ = self.good()
        body = body + b" " * 4000
        self.head(200, ctype, len(body))
        self.wfile.write(body[: len(body) // 4])
        self.wfile.flush()

    def mode_toobig(self):
        # an honest Content-Length, 64 MiB, far over every limit the test sets
        total = 64 << 20
        self.head(200, "application/json", total)
        self.wfile.write(b'{"pad":"')
        sent = 8
        block = b"x" * 65536
        while sent < total - 2 and time.time() < self.deadline():
            n = min(len(block), total - 2 - sent)
            self.wfile.write(block[:n])
            sent += n
        self.wfile.write(b'"}')

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def mode_stream_fast(self):
        self.head(200, "application/json", chunked=True)
        self.chunk(b'{"items":[')
        block = b" " * 65536
        while time.time() < self.deadline():
            self.chunk(block)

    def mode_stream_slow(self):
        self.head(200, "application/json", chunked=True)
        self.chunk(b'{"items":[')
        while time.time() < self.deadline():
            self.chunk(b"0,")
            if self.client_gone(0.05):
                return

    def mode_stall(self):
        self.head(200, "application/json", 1000)
        while time.time() < self.deadline():
            if self.client_gone(0.2):
                return

    def mode_badjson(self):
        body = b'{"kind": "ConfigMap", "metadata": {"name": "cm",, "jobs": [}'
        self.head(200, "application/json", len(body))
        self.wfile.write(body)

    def mode_html(self):
        body = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
                b"<body><form method=post action=/login><input name=user></form></body></html>\n")
        self.head(200, "text/html; charset=utf-8", len(body))
        self.wfile.write(body)

    def mode_redirect(self):
        # another host (127.0.0.2, where nothing listens): a login page or
        # another region; 307 keeps the method, what a proxy does for a write
        port = self.server.server_address[1]
        where = "http://127.0.0.2:%d/sso/login?next=%s&token=%s" % (port, self.path.partition("?")[0],
                                                                    REDIRECT_SECRET)
        body = b"<html><body>Moved</body></html>"
        status = 302 if self.command in ("GET", "HEAD") else 307
        self.head(status, "text/html", len(body), extra=[("Location", where)])
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            # the handshake runs in the connection's thread, at its first read
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # a client refusing the certificate, or leaving early


def serve(args):
    deadline = time.time() + args.lifetime
    servers = []
    for tls in (False, True):
        if tls and not args.tls_cert:
            continue
        s = Server(("127.0.0.1", 0), Handler)
        s.mode = args.mode
        s.deadline = deadline
        s.log = args.log
        s.log_lock = threading.Lock()
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
            s.tls = ctx
        servers.append(s)
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    ports = [s.server_address[1] for s in servers] + [0]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (ports[0], ports[1]))
    os.rename(tmp, args.port_file)
    while time.time() < deadline:
        time.sleep(0.2)
    # handler threads may sit in a send; the lifetime is a hard bound
    os._exit(0)


def certs(folder):
    os.makedirs(folder, exist_ok=True)

    def run(*cmd):
        subprocess.run(["openssl"] + list(cmd), cwd=folder, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=faulty test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:wrong.example")):
        cn = "localhost" if name == "good" else "wrong.example"
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
        with open(os.path.join(folder, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "certs":
        certs(sys.argv[2])
        return
    p = argparse.ArgumentParser(description="a faulty HTTP server for flinkops' unit tests")
    p.add_argument("mode", choices=MODES)
    p.add_argument("--port-file", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--lifetime", type=float, default=60.0)
    p.add_argument("--log")
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    args.lifetime = min(max(args.lifetime, 1.0), 600.0)
    serve(args)


if __name__ == "__main__":
    main()
