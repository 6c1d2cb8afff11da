"""A small asyncio HTTP/1.1 load generator: simulated people with their own cookies and keep-alive."""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Sample:
    scenario: str
    ms: float
    status: int
    queries: int | None


@dataclass
class Person:
    """One simulated person: a keep-alive connection and a cookie jar."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    await self._connect()
                return await self._exchange(method, path, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer = None
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    async def _exchange(self, method, path, body):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive",
                "User-Agent: lms-benchmark"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        if body:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                token = rest.split(";", 1)[0]
                if "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = token
            headers[name] = value
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                data += await self.reader.readexactly(size + 2)
                data = data[:-2]
            body_bytes = data
        else:
            body_bytes = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, headers, body_bytes

    async def sign_in(self, email: str, password: str) -> bool:
        status, _, page = await self.request("GET", "/sign-in")
        token = CSRF.search(page)
        if not token:
            return False
        body = urlencode({"email": email, "password": password, "csrf_token": token.group(1).decode()}).encode()
        status, headers, _ = await self.request("POST", "/sign-in", body)
        return status == 302 and "/home" in headers.get("location", "")


async def drive(base_url: str, people: list[tuple[str, list[tuple[str, str]]]], password: str,
                duration: float, concurrency: int, think: float = 0.0) -> tuple[list[Sample], int]:
    """Sign everyone in first, then request their scenarios round-robin for ``duration`` seconds.

    ``people`` is a list of (email, [(scenario name, path), ...]); an empty email stays anonymous.
    ``think`` is the mean pause, in seconds, between one person's requests (varied by ±50%).
    Only the timed phase is measured. Returns the samples and how many sign-ins failed.
    """
    parts = urlsplit(base_url)
    samples: list[Sample] = []
    signed_in: list[tuple[Person, list]] = []
    failed = 0
    gate = asyncio.Semaphore(8)  # sign-ins hash passwords: a few at a time

    async def sign_in(email, scenarios):
        nonlocal failed
        person = Person(parts.hostname, parts.port)
        if email:
            async with gate:
                if not await person.sign_in(email, password):
                    failed += 1
                    return
        signed_in.append((person, scenarios))

    await asyncio.gather(*(sign_in(email, scenarios) for email, scenarios in people))
    deadline = time.perf_counter() + duration

    async def run(person, scenarios):
        i = 0
        while time.perf_counter() < deadline:
            name, path = scenarios[i % len(scenarios)]
            started = time.perf_counter()
            try:
                status, headers, _ = await person.request("GET", path)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                status, headers = 599, {}
            queries = headers.get("x-query-count")
            samples.append(Sample(name, (time.perf_counter() - started) * 1000, status,
                                  int(queries) if queries is not None else None))
            i += 1
            if think:
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
        if person.writer:
            person.writer.close()

    await asyncio.gather(*(run(person, scenarios) for person, scenarios in signed_in[:concurrency]))
    return samples, failed
