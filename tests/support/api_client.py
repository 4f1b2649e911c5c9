"""A small client for the public HTTP API, as a user of the kit calls it: the e2e and fault tests
and the benchmark all go through it.

Each thread keeps one keep-alive connection, as a load generator holds one: the benchmark's
clients post back to back without paying a new connection each time.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

Pages = list[list[dict[str, Any]]]  # a listing's pages, each the items it held
# A 503 that carries Retry-After (the API key could not be checked just now: nothing was done) is
# sent again after that many seconds, as a well-behaved client does, up to this many times.
RETRY_AFTER_TRIES = 3


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


class AppointmentsApi:
    # Generous: a burst on a cold local engine starts one worker per concurrent request (as AWS
    # starts one environment each), and on a 2-core machine twenty cold starts queue for the CPU.
    def __init__(self, base_url: str, api_key: str | None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.base_url)
        self._connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._host, self._port, self._prefix = parts.hostname or "127.0.0.1", parts.port, parts.path
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it served a request before."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        connection = self._connection_class(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        return connection, False

    def _drop_connection(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None

    def _send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if content_type:
            sent["content-type"] = content_type
        if self.api_key is not None:
            sent["x-api-key"] = self.api_key
        tries = 0
        while True:
            connection, reused = self._connection()
            try:
                connection.request(method, f"{self._prefix}{path}", data, sent)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection(connection)
                if reused and not isinstance(error, TimeoutError):
                    continue  # the server closed it while it was idle, before reading the request
                raise
            if response.will_close:
                self._drop_connection(connection)
            retry_after = response.getheader("Retry-After")
            if response.status == 503 and retry_after is not None and tries < RETRY_AFTER_TRIES:
                tries += 1
                time.sleep(float(retry_after))
                continue
            return Reply(response.status, json.loads(body or b"null"))

    def create(self, body: Any, idempotency_key: str | None = None) -> Reply:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._send("POST", "/appointments", json.dumps(body).encode(), "application/json", headers)

    def with_key(self, api_key: str | None) -> AppointmentsApi:
        return AppointmentsApi(self.base_url, api_key, self.timeout)

    def create_raw(self, data: bytes, content_type: str | None = "application/json") -> Reply:
        return self._send("POST", "/appointments", data, content_type)

    def list(self, insured_id: str, limit: int | None = None, next_token: str | None = None) -> Reply:
        query = {
            name: value for name, value in (("limit", limit), ("nextToken", next_token)) if value is not None
        }
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        return self._send("GET", f"/appointments/{insured_id}{suffix}", None, None)

    def pages(self, insured_id: str, limit: int) -> Pages:
        """Every page of the insured's list, following nextToken to the end."""
        pages: Pages = []
        token = None
        while True:
            reply = self.list(insured_id, limit, token)
            assert reply.status == 200, reply
            pages.append(reply.body["items"])
            token = reply.body.get("nextToken")
            if token is None:
                return pages

    def statuses(self, insured_id: str) -> dict[str, str]:
        """appointmentId -> status of each of the insured's appointments."""
        return {
            item["appointmentId"]: str(item["status"])
            for page in self.pages(insured_id, limit=100)
            for item in page
        }

    def status_of(self, insured_id: str, appointment_id: str) -> str | None:
        return self.statuses(insured_id).get(appointment_id)
