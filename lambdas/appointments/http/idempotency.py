"""The Idempotency-Key: a POST sent again with the same key and body gets the answer the first
one got. powertools' idempotency keeps each answer in a store (a DynamoDB table) for a day.

powertools' idempotency, and the store (a DynamoDB client), are loaded by the first request that
sends an Idempotency-Key: a cold start serving any other request does without them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from appointments.http.schemas import CreateAppointmentBody

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"  # printable ASCII, no spaces
IDEMPOTENCY_RECORD_SECONDS = 24 * 3600  # how long a key holds its answer (the table's TTL)
# The answer kept under an Idempotency-Key when the store did not confirm the write: the
# appointment, to be written again by the next request with the key.
UNCONFIRMED = "unconfirmed"
# What a record's key is named after, behind the function's name: the name powertools gave the
# records when the request made once was a closure in appointments/api.py. Kept, so a key sent
# before a deploy that moved the code still finds its answer within the record's day.
RECORD_NAME = "appointments.api.create_app.<locals>.request_once"


class KeyedRequest(BaseModel):
    """A POST's body as validated, and the key it came with: what a key's record is made of.

    powertools hashes its JSON form (model_dump) and hands the function it wraps this very object,
    so the body is validated once, by the route, and never turned back into a dict to be read again.
    """

    # The body is already a CreateAppointmentBody: pydantic keeps a model instance as it is given.
    model_config = ConfigDict(frozen=True, defer_build=True)

    # The client application whose API key called is part of the key: one client cannot reach
    # another's answer (or block its key with a 422) by sending the same Idempotency-Key.
    client: str | None
    key: str | None
    request: CreateAppointmentBody


@cache
def idempotency_config() -> IdempotencyConfig:
    """Same client, key and body within a day: the stored answer is returned. Same client and key,
    other body: 422. A key is its client's own: another client sending it makes its own request."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[client, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=IDEMPOTENCY_RECORD_SECONDS,
        raise_on_no_idempotency_key=True,
    )


class OncePerKey:
    """`request_once` made at most once per client and Idempotency-Key: called again with the
    same key and body, the answer it gave is returned from the store."""

    def __init__(
        self,
        request_once: Callable[[KeyedRequest], dict[str, Any]],
        store: BasePersistenceLayer | Callable[[], BasePersistenceLayer],
    ) -> None:
        self._request_once = request_once
        self._store = store
        self._wrapped: Callable[..., dict[str, Any]] | None = None

    def _answer(self, data: KeyedRequest) -> dict[str, Any]:
        # What powertools wraps: a method, which has the __qualname__ it reads (a partial has not).
        return self._request_once(data)

    def __call__(self, data: KeyedRequest, context: LambdaContext) -> dict[str, Any]:
        if self._wrapped is None:
            from aws_lambda_powertools.utilities.idempotency import idempotent_function

            persistence = self._store() if callable(self._store) else self._store
            self._wrapped = idempotent_function(
                data_keyword_argument="data",
                persistence_store=persistence,
                config=idempotency_config(),
                # powertools' own form, the function's name first (it reads it as here)
                key_prefix=f"{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'test-func')}.{RECORD_NAME}",
            )(self._answer)
        # an in-progress record expires with the invocation
        idempotency_config().register_lambda_context(context)
        return self._wrapped(data=data)
