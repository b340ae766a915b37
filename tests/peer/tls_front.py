"""A TLS front for the AWS stand-in, with a configurable round-trip delay.

Clients connect with TLS to 127.0.0.1:PORT (a certificate for 127.0.0.1 signed by a CA
made at start, written to DIR/ca.pem: point AWS_CA_BUNDLE at it); each connection is
served as HTTP/1.1 with keep-alive (as AWS does): each request is passed as plain HTTP to
the peer on a connection of its own (the peer closes each), and its answer sent back. Every byte between the client and the
front is held back for half the round trip in each direction, and the first bytes of a
connection for one more round trip (the TCP handshake that loopback makes at once), so
a TCP + TLS 1.3 handshake costs 2 round trips and each request one, as on a real link.

Usage: python tls_front.py UPSTREAM_PORT RTT_MS DIR

Prints {"port": N, "ca": "DIR/ca.pem"} on stdout, then one JSON line per event:
{"event": "accept", "conn": i, "t": unix time} when a connection is accepted,
{"event": "handshake", "conn": i, "t": ...} when its TLS handshake is complete,
{"event": "request", "conn": i, "n": bytes of HTTP requests read so far, "t": ...}
and {"event": "close", "conn": i, "t": ...}. Lives as long as its stdin is open.
"""

from __future__ import annotations

import datetime
import heapq
import ipaddress
import json
import os
import socket
import ssl
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_print_lock = threading.Lock()


def emit(**event: object) -> None:
    event["t"] = time.time()
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def make_certificates(directory: str) -> tuple[str, str, str]:
    """A CA and a server certificate for 127.0.0.1 (CA:FALSE) signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aws-session test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = os.path.join(directory, "ca.pem")
    cert_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "server.key")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return ca_path, cert_path, key_path


class DelayLine:
    """Sends what it is given to `sock` `delay` seconds later, in order."""

    def __init__(self, sock: socket.socket, delay: float) -> None:
        self.sock = sock
        self.delay = delay
        self.queue: list[tuple[float, int, bytes]] = []
        self.seq = 0
        self.cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._run, daemon=True).start()

    def put(self, data: bytes, extra: float = 0.0) -> None:
        with self.cond:
            self.seq += 1
            due = time.monotonic() + self.delay + extra
            if self.queue:
                due = max(due, max(q[0] for q in self.queue))
            heapq.heappush(self.queue, (due, self.seq, data))
            self.cond.notify()

    def close(self) -> None:
        self.put(b"")

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                due, _, data = self.queue[0]
                now = time.monotonic()
                if due > now:
                    self.cond.wait(due - now)
                    continue
                heapq.heappop(self.queue)
            try:
                if data:
                    self.sock.sendall(data)
                else:
                    self.sock.shutdown(socket.SHUT_WR)
                    return
            except OSError:
                return


def delay_link(client: socket.socket, server_port: int, half_rtt: float) -> None:
    """Raw bytes between `client` and the TLS end on `server_port`, each way half a
    round trip late, the first client bytes one more round trip late."""
    inner = socket.create_connection(("127.0.0.1", server_port))
    inner.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    to_inner = DelayLine(inner, half_rtt)
    to_client = DelayLine(client, half_rtt)

    def pump(src: socket.socket, line: DelayLine, first_extra: float) -> None:
        extra = first_extra
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                line.put(data, extra)
                extra = 0.0
        except OSError:
            pass
        line.close()

    threading.Thread(target=pump, args=(client, to_inner, 2 * half_rtt), daemon=True).start()
    threading.Thread(target=pump, args=(inner, to_client, 0.0), daemon=True).start()


def read_request(tls: ssl.SSLSocket, buf: bytearray) -> bytes | None:
    """One HTTP/1.1 request (head and Content-Length body) from `tls`; `None` at the end."""
    while b"\r\n\r\n" not in buf:
        data = tls.recv(65536)
        if not data:
            return None
        buf.extend(data)
    head_end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < head_end + length:
        data = tls.recv(65536)
        if not data:
            return None
        buf.extend(data)
    request = bytes(buf[: head_end + length])
    del buf[: head_end + length]
    return request


def forward(request: bytes, upstream: int) -> bytes:
    """Send `request` to the peer on a new connection (it closes each one) and return
    its answer as an HTTP/1.1 keep-alive response."""
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
    out = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + body
    up = socket.create_connection(("127.0.0.1", upstream))
    up.sendall(out)
    answer = bytearray()
    while True:
        data = up.recv(65536)
        if not data:
            break
        answer.extend(data)
    up.close()
    head, _, body = bytes(answer).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 1)[1] if b" " in lines[0] else b"502 Bad Gateway"
    kept = [
        l
        for l in lines[1:]
        if l.split(b":", 1)[0].strip().lower()
        not in (b"connection", b"content-length", b"transfer-encoding", b"keep-alive")
    ]
    return (
        b"\r\n".join(
            [b"HTTP/1.1 " + status, *kept, b"Content-Length: " + str(len(body)).encode()]
        )
        + b"\r\n\r\n"
        + body
    )


def serve_tls(conn: socket.socket, index: int, context: ssl.SSLContext, upstream: int) -> None:
    """Terminate TLS on `conn` and serve its requests, one after another, kept alive."""
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError):
        emit(event="close", conn=index)
        return
    emit(event="handshake", conn=index)
    buf = bytearray()
    total = 0
    try:
        while True:
            request = read_request(tls, buf)
            if request is None:
                break
            total += len(request)
            emit(event="request", conn=index, n=total)
            tls.sendall(forward(request, upstream))
    except (OSError, ValueError):
        pass
    try:
        tls.close()
    except OSError:
        pass
    emit(event="close", conn=index)


def main() -> None:
    upstream, rtt_ms, directory = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    ca_path, cert_path, key_path = make_certificates(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)

    # The TLS end, reached only through the delay line.
    tls_listener = socket.socket()
    tls_listener.bind(("127.0.0.1", 0))
    tls_listener.listen(64)
    tls_port = tls_listener.getsockname()[1]
    counter = {"n": 0}
    lock = threading.Lock()
    pending: list[int] = []

    def tls_accept() -> None:
        while True:
            conn, _ = tls_listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with lock:
                index = pending.pop(0) if pending else -1
            threading.Thread(
                target=serve_tls, args=(conn, index, context, upstream), daemon=True
            ).start()

    threading.Thread(target=tls_accept, daemon=True).start()

    front = socket.socket()
    front.bind(("127.0.0.1", 0))
    front.listen(64)

    def front_accept() -> None:
        while True:
            client, _ = front.accept()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with lock:
                counter["n"] += 1
                index = counter["n"]
                pending.append(index)
            emit(event="accept", conn=index)
            delay_link(client, tls_port, rtt_ms / 2000.0)

    threading.Thread(target=front_accept, daemon=True).start()
    sys.stdout.write(json.dumps({"port": front.getsockname()[1], "ca": ca_path}) + "\n")
    sys.stdout.flush()
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, KeyboardInterrupt):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
