"""A small client for the public HTTP API, as a user of the kit would call it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


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

    def _send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)  # noqa: S310
        if content_type:
            request.add_header("content-type", content_type)
        if self.api_key is not None:
            request.add_header("x-api-key", self.api_key)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Reply(response.status, json.loads(response.read() or b"null"))
        except urllib.error.HTTPError as error:
            return Reply(error.code, json.loads(error.read() or b"null"))

    def create(self, body: Any, idempotency_key: str | None = None) -> Reply:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._send("POST", "/appointments", json.dumps(body).encode(), "application/json", headers)

    def with_key(self, api_key: str | None) -> AppointmentsApi:
        return AppointmentsApi(self.base_url, api_key, self.timeout)

    def create_raw(self, data: bytes, content_type: str | None = "application/json") -> Reply:
        return self._send("POST", "/appointments", data, content_type)

    def list(self, insured_id: str) -> Reply:
        return self._send("GET", f"/appointments/{insured_id}", None, None)

    def status_of(self, insured_id: str, appointment_id: str) -> str | None:
        reply = self.list(insured_id)
        assert reply.status == 200, reply
        for item in reply.body["items"]:
            if item["appointmentId"] == appointment_id:
                return str(item["status"])
        return None
