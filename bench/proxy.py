#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy that adds a fixed latency to every request, and counts them.

    proxy.py --upstream-port MOTO_PORT [--port 0] [--delay-ms 0]

It listens on 127.0.0.1 only and forwards to 127.0.0.1:UPSTREAM only. Each request from a
client is read whole (headers and body: Content-Length or chunked), held for the delay, and
then sent upstream; answers come back unchanged and at once. So a request/answer exchange
costs one delay more than on plain loopback: the delay plays the round trip to AWS. Opening a
connection costs nothing extra (a conservative choice: it favours whoever opens more
connections, i.e. the `aws` CLI, which opens a new one per command).

Control requests (answered by the proxy itself, never delayed, never counted; send them on
their own connection):

    GET /__bench/stats          {"requests": N, "delay_ms": D, "operations": {"iam:GetRole": n, ...},
                                 "first_request_monotonic": T, "last_response_monotonic": T}
    GET /__bench/reset          zero the counters
    GET /__bench/delay?ms=50    set the delay for requests that arrive from now on

The first line printed on stdout is the port it listens on.
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.parse
from collections import Counter

STATE = {"delay": 0.0, "requests": 0, "ops": Counter(), "first_request": None, "last_response": None}


def operation(method, target, headers, body):
    """A readable name for the AWS operation (for the stats), by protocol."""
    amz_target = headers.get("x-amz-target")
    if amz_target:  # KMS (JSON protocol): TrentService.DescribeKey
        return "kms:" + amz_target.split(".")[-1]
    if body and b"Action=" in body:  # IAM and STS (query protocol)
        form = urllib.parse.parse_qs(body.decode("ascii", "replace"))
        action = form.get("Action", ["?"])[0]
        auth = headers.get("authorization", "")
        service = "sts" if "/sts/" in auth else "iam" if "/iam/" in auth else "query"
        return f"{service}:{action}"
    # S3 (REST): the sub-resource names the operation.
    parsed = urllib.parse.urlsplit(target)
    query = parsed.query.split("&")[0].split("=")[0] if parsed.query else ""
    path = parsed.path.rstrip("/")
    return f"s3:{method} {query or ('bucket' if path.count('/') <= 1 else 'object')}"


async def read_request(reader):
    """One whole request: (raw bytes, method, target, headers, body), or None at EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    raw = bytearray(head)
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            data = await reader.readexactly(size + 2)
            raw += data
            chunks += data[:-2]
            if size == 0:
                # Trailers (rare) end with an empty line; data already read it when none.
                if data != b"\r\n":
                    raw += await reader.readuntil(b"\r\n\r\n")
                break
        body = bytes(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
        raw += body
    return bytes(raw), method, target, headers, body


async def control(writer, target):
    parsed = urllib.parse.urlsplit(target)
    if parsed.path == "/__bench/reset":
        STATE["requests"] = 0
        STATE["ops"] = Counter()
        STATE["first_request"] = None
        STATE["last_response"] = None
    elif parsed.path == "/__bench/delay":
        ms = float(urllib.parse.parse_qs(parsed.query).get("ms", ["0"])[0])
        STATE["delay"] = ms / 1000.0
    body = json.dumps(
        {
            "requests": STATE["requests"],
            "delay_ms": STATE["delay"] * 1000.0,
            "operations": dict(sorted(STATE["ops"].items())),
            # time.monotonic() (CLOCK_MONOTONIC, the same in every process on the machine) when
            # the first request had arrived whole, and when the last answer's last bytes
            # were passed back: a client that notes its own start and end splits its run into
            # start-up, the AWS phase and the finish.
            "first_request_monotonic": STATE["first_request"],
            "last_response_monotonic": STATE["last_response"],
        }
    ).encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    writer.close()


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            STATE["last_response"] = time.monotonic()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer, upstream_port):
    upstream_writer = None
    back = None
    try:
        while True:
            try:
                raw, method, target, headers, body = await read_request(client_reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            arrived = time.monotonic()
            if target.startswith("/__bench/"):
                await control(client_writer, target)
                return
            STATE["requests"] += 1
            if STATE["first_request"] is None:
                STATE["first_request"] = arrived
            STATE["ops"][operation(method, target, headers, body)] += 1
            wait = arrived + STATE["delay"] - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if upstream_writer is None:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", upstream_port
                )
                back = asyncio.ensure_future(pipe(upstream_reader, client_writer))
            upstream_writer.write(raw)
            await upstream_writer.drain()
    finally:
        if upstream_writer is not None:
            upstream_writer.close()
        if back is not None:
            try:
                await asyncio.wait_for(back, timeout=5)
            except Exception:
                back.cancel()
        try:
            client_writer.close()
        except Exception:
            pass


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--delay-ms", type=float, default=0.0)
    args = p.parse_args()
    STATE["delay"] = args.delay_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.upstream_port), "127.0.0.1", args.port, limit=1 << 20
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
