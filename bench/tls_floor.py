"""The CPU floor of moving bytes through Python's ``ssl``: what any copier built on it pays.

A copier over TLS decrypts every fetched byte and encrypts every produced one. This measures,
on loopback, the client-side CPU (``time.thread_time``) of receiving and of sending
``--mib`` MiB with plain ``recv_into``/``sendall`` against the same over TLS 1.3 (Python's
``ssl``, the system OpenSSL, a throwaway self-signed certificate; the peer runs in another
process), each ``--repeat`` times, and prints the medians and the TLS surcharge per byte and
per 1 KB record (received once and sent once, as ``connshift sync`` does).

The surcharge is the floor under connshift's "TLS CPU per record vs PLAINTEXT" in the bench:
AES-GCM itself plus OpenSSL's copy between its record buffer and ours and one
``SSL_read``/``SSL_write`` (and its syscalls) per 16 KB TLS record. No copier code runs here.

Usage::

    .venv/bin/python bench/tls_floor.py [--mib 300] [--repeat 3] [--record-bytes 1008]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import socket
import ssl
import statistics
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MIB = 1 << 20


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _peer(
    listener: socket.socket, tls: tuple[Path, Path] | None, client_receives: bool, total: int
) -> None:
    conn, _ = listener.accept()
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        conn = context.wrap_socket(conn, server_side=True)
    if client_receives:
        data = b"x" * MIB
        for _ in range(total // MIB):
            conn.sendall(data)
        conn.recv(1)
    else:
        buf = bytearray(MIB)
        got = 0
        while got < total:
            got += conn.recv_into(buf)
        conn.sendall(b"\0")
    conn.close()


def _once(tls: tuple[Path, Path] | None, receive: bool, total: int) -> tuple[float, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    peer = mp.get_context("fork").Process(target=_peer, args=(listener, tls, receive, total))
    peer.start()
    sock = socket.create_connection(listener.getsockname())
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        context = ssl.create_default_context(cafile=str(tls[0]))
        sock = context.wrap_socket(sock, server_hostname="localhost")
    cipher = " ".join(str(part) for part in sock.cipher()[:2]) if tls is not None else "-"
    view = memoryview(bytearray(4 * MIB))
    start = time.thread_time()
    if receive:
        got = 0
        while got < total:
            want, off = min(len(view), total - got), 0
            while off < want:
                off += sock.recv_into(view[off:want], want - off)
            got += want
        spent = time.thread_time() - start
        sock.sendall(b"\0")
    else:
        chunk = view[:MIB]
        for _ in range(total // MIB):
            sock.sendall(chunk)
        spent = time.thread_time() - start
        sock.recv(1)
    peer.join()
    sock.close()
    listener.close()
    return spent, cipher


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/tls_floor.py", description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=300, help="MiB per direction (300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument(
        "--record-bytes", type=int, default=1008, help="wire bytes per record (1008: 1 KB lz4)"
    )
    args = parser.parse_args()
    total = args.mib * MIB
    with tempfile.TemporaryDirectory(prefix="tls-floor-") as tmp:
        material = _certificate(Path(tmp))
        cipher = "-"
        medians: dict[tuple[bool, bool], float] = {}
        for tls in (False, True):
            for receive in (True, False):
                runs = []
                for _ in range(args.repeat):
                    spent, seen = _once(material if tls else None, receive, total)
                    runs.append(spent)
                    cipher = seen if tls else cipher
                medians[(tls, receive)] = statistics.median(runs)
                print(
                    f"{'TLS' if tls else 'PLAINTEXT':9} {'receive' if receive else 'send':7} "
                    f"{args.mib} MiB: median {medians[(tls, receive)]:.3f} s CPU "
                    f"({', '.join(f'{r:.3f}' for r in runs)})"
                )
    per_byte = sum(medians[(True, r)] - medians[(False, r)] for r in (True, False)) / total
    print(
        f"{ssl.OPENSSL_VERSION}, {cipher}: TLS surcharge {per_byte * 1e9:.2f} ns per byte "
        f"received and sent again = {per_byte * args.record_bytes * 1e6:.2f} µs per "
        f"{args.record_bytes} B record copied"
    )


if __name__ == "__main__":
    main()
