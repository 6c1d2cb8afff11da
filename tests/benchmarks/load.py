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
    location: str = ""     # where a redirect pointed

    @property
    def error(self) -> str | None:
        """Why this response is an error, or None: a page must answer 2xx (a redirect to sign-in is an error)."""
        if 200 <= self.status < 300:
            return None
        if 300 <= self.status < 400:
            return f"{self.status} to sign-in" if "/sign-in" in self.location else f"{self.status} redirect"
        return "no response" if self.status == 599 else str(self.status)


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


async def _timed(person: Person, name: str, path: str) -> Sample:
    started = time.perf_counter()
    try:
        status, headers, _ = await asyncio.wait_for(person.request("GET", path), timeout=60)
    except (ConnectionError, asyncio.IncompleteReadError, OSError, asyncio.TimeoutError):
        status, headers = 599, {}
        person.writer = None
    queries = headers.get("x-query-count")
    return Sample(name, (time.perf_counter() - started) * 1000, status,
                  int(queries) if queries is not None else None, headers.get("location", ""))


async def sign_in_all(base_url: str, people: list[tuple[str, list[tuple[str, str]]]],
                      password: str) -> tuple[list[tuple[Person, list]], int]:
    """Sign everyone in (a few at a time: sign-ins hash passwords). An empty email stays anonymous.

    Returns the signed-in people with their scenarios, and how many sign-ins failed.
    """
    parts = urlsplit(base_url)
    signed_in: list[tuple[Person, list]] = []
    failed = 0
    gate = asyncio.Semaphore(4)

    async def one(email, scenarios):
        nonlocal failed
        person = Person(parts.hostname, parts.port)
        if email:
            async with gate:
                if not await person.sign_in(email, password):
                    failed += 1
                    return
        signed_in.append((person, scenarios))

    await asyncio.gather(*(one(email, scenarios) for email, scenarios in people))
    return signed_in, failed


async def warm_up(people: list[tuple[Person, list]]) -> list[Sample]:
    """Each person opens each of their pages once (not timed: first requests fill caches)."""
    async def one(person, scenarios):
        return [await _timed(person, name, path) for name, path in scenarios]

    results = await asyncio.gather(*(one(person, scenarios) for person, scenarios in people))
    return [sample for samples in results for sample in samples]


async def load(people: list[tuple[Person, list]], duration: float, think: float) -> list[Sample]:
    """Everyone uses their pages in turn for ``duration`` seconds, pausing ``think`` seconds (±50%) between
    pages, as people reading pages do. Each starts at a random page and after a random pause."""
    deadline = time.perf_counter() + duration
    samples: list[Sample] = []

    async def run(person, scenarios):
        i = random.randrange(len(scenarios))
        await asyncio.sleep(random.uniform(0, think))
        while time.perf_counter() < deadline:
            name, path = scenarios[i % len(scenarios)]
            samples.append(await _timed(person, name, path))
            i += 1
            if think:
                await asyncio.sleep(think * random.uniform(0.5, 1.5))

    await asyncio.gather(*(run(person, scenarios) for person, scenarios in people))
    return samples


async def saturate(base_url: str, sessions: list[tuple[dict, str]], name: str, duration: float,
                   connections: int) -> tuple[list[Sample], float]:
    """Request one page back to back over ``connections`` keep-alive connections for ``duration`` seconds
    (no pauses): the most this server can serve of it. ``sessions`` are (cookies, path) pairs, each
    signed-in person's own address of the page; connections take them in turn.

    Returns the samples and the elapsed time (until the last response came back).
    """
    parts = urlsplit(base_url)
    people = [(Person(parts.hostname, parts.port, dict(sessions[n % len(sessions)][0])), sessions[n % len(sessions)][1])
              for n in range(connections)]
    samples: list[Sample] = []
    started = time.perf_counter()
    deadline = started + duration

    async def run(person, path):
        while time.perf_counter() < deadline:
            samples.append(await _timed(person, name, path))
        if person.writer:
            person.writer.close()

    await asyncio.gather(*(run(person, path) for person, path in people))
    return samples, time.perf_counter() - started


async def probe(person: Person, name: str, path: str, times: int = 3) -> Sample:
    """Open one page a few times in a row; the last response is the steady state (caches filled)."""
    sample = None
    for _ in range(times):
        sample = await _timed(person, name, path)
    return sample


def close(people: list[tuple[Person, list]]) -> None:
    for person, _ in people:
        if person.writer:
            person.writer.close()
            person.writer = None
