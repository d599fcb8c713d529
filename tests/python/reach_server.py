#!/usr/bin/env python3
"""An MCP server on the official Python SDK (mcp==2.3.0) for issue 28's tests and benchmarks:
a server that requires a bearer token, optionally over HTTPS, in either HTTP transport.

Tools: `echo(message)` and `add(a, b)`. Resources: `reach://page/0` to `reach://page/2`, listed
one per page (resources/list follows `nextCursor`), so a client that reads only the first page
never sees the last two.

usage: reach_server.py --port N [--transport streamable-http|sse] [--stateless]
                       [--token-env VAR] [--tls DIR] [--read-log FILE]
  --transport  streamable-http (http://127.0.0.1:N/mcp) or the legacy HTTP+SSE transport of
               2024-11-05 (GET http://127.0.0.1:N/sse, POST /messages/)
  --token-env  require `Authorization: Bearer <the value of VAR>` on every request: none gives
               401 with `WWW-Authenticate: Bearer realm="reach-test"`, a wrong one 403 with
               `error="insufficient_scope"`
  --tls DIR    serve HTTPS with a certificate for 127.0.0.1 signed by a fresh private CA,
               whose certificate is DIR/cert.pem (for the client's --cacert)
  --read-log   append the URI of every resources/read to FILE, one a line
"""
import argparse
import datetime
import ipaddress
import os

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp_types import ListResourcesResult

PAGES = 3
READ_LOG = None


class PagedResources(MCPServer):
    """resources/list one resource per page: the cursor is the next page's index."""

    async def _handle_list_resources(self, ctx, params):
        resources = await self.list_resources()
        at = int(params.cursor) if params is not None and params.cursor else 0
        more = str(at + 1) if at + 1 < len(resources) else None
        return ListResourcesResult(resources=resources[at:at + 1], next_cursor=more)


mcp = PagedResources("reach-test-server", version="1.0.0", log_level="WARNING")


def page(i: int) -> None:
    @mcp.resource(f"reach://page/{i}", name=f"page-{i}")
    def read() -> str:
        if READ_LOG:
            with open(READ_LOG, "a") as f:
                f.write(f"reach://page/{i}\n")
        return f"page {i}"


for i in range(PAGES):
    page(i)


@mcp.tool()
def echo(message: str) -> str:
    """Echo the message back."""
    return message


@mcp.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


class RequireBearer:
    """ASGI middleware: every HTTP request must carry the token."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization")
        if given == self.expected:
            return await self.app(scope, receive, send)
        if given is None:
            status, challenge = 401, b'Bearer realm="reach-test"'
        else:
            status, challenge = 403, b'Bearer realm="reach-test", error="insufficient_scope"'
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(b"www-authenticate", challenge), (b"content-type", b"text/plain")],
        })
        await send({"type": "http.response.body", "body": b"no valid bearer token"})


def self_signed(directory: str) -> tuple[str, str]:
    """A private CA (its certificate written to DIR/cert.pem, for the client's --cacert) and a
    server certificate for 127.0.0.1 it signed (DIR/server.pem, DIR/key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, public_key, signing_key, ca):
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return b.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reach-test CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    server = build(name, ca_name, key.public_key(), ca_key, False)
    server_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
    with open(server_path, "wb") as f:
        f.write(server.public_bytes(serialization.Encoding.PEM))
    ca_path = os.path.join(directory, "cert.pem")
    with open(ca_path + ".tmp", "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    os.replace(ca_path + ".tmp", ca_path)
    return server_path, key_path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--transport", default="streamable-http", choices=["streamable-http", "sse"])
    p.add_argument("--stateless", action="store_true")
    p.add_argument("--token-env")
    p.add_argument("--tls")
    p.add_argument("--read-log")
    a = p.parse_args()
    global READ_LOG
    READ_LOG = a.read_log
    if a.transport == "sse":
        app = mcp.sse_app(host="127.0.0.1")
    else:
        app = mcp.streamable_http_app(
            host="127.0.0.1", stateless_http=a.stateless, json_response=a.stateless
        )
    if a.token_env:
        app = RequireBearer(app, os.environ[a.token_env])
    tls = {}
    if a.tls:
        cert, key = self_signed(a.tls)
        tls = {"ssl_certfile": cert, "ssl_keyfile": key}
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", **tls)


if __name__ == "__main__":
    main()
