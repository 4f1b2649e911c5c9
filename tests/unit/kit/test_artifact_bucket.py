"""The artifact bucket's name is predictable: every S3 call the kit makes names this account as
the bucket's expected owner, a bucket that is another account's is refused before any
code is sent, and a bucket the kit makes gets Block Public Access and versioning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.config import KitError, StackConfig
from bootstrap.packaging import BuiltZip
from bootstrap.stack import artifacts
from bootstrap.stack.artifacts import BucketState

ACCOUNT = "111122223333"
ZIPS = [
    BuiltZip("http", Path("dist/http.zip"), "a" * 64),
    BuiltZip("processor", Path("dist/p.zip"), "b" * 64),
]


def refusal(status: int, code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "S3"
    )


class FakeS3:
    """A bucket that is ours, missing, or another account's; keeps every call with its arguments."""

    def __init__(self, bucket: BucketState, stored: tuple[str, ...] = ()) -> None:
        self.bucket = bucket
        self.stored = set(stored)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _call(self, name: str, **arguments: Any) -> None:
        self.calls.append((name, arguments))

    def head_bucket(self, **arguments: Any) -> None:
        self._call("head_bucket", **arguments)
        if self.bucket is BucketState.MISSING:
            raise refusal(404, "404")
        if self.bucket is BucketState.FOREIGN and arguments.get("ExpectedBucketOwner"):
            raise refusal(403, "403")

    def create_bucket(self, **arguments: Any) -> None:
        self._call("create_bucket", **arguments)
        self.bucket = BucketState.OURS

    def put_public_access_block(self, **arguments: Any) -> None:
        self._call("put_public_access_block", **arguments)

    def put_bucket_versioning(self, **arguments: Any) -> None:
        self._call("put_bucket_versioning", **arguments)

    def head_object(self, **arguments: Any) -> None:
        self._call("head_object", **arguments)
        if arguments["Key"] not in self.stored:
            raise refusal(404, "404")

    def upload_file(self, path: str, bucket: str, key: str, ExtraArgs: Any = None) -> None:  # noqa: N803
        self._call("upload_file", Bucket=bucket, Key=key, ExtraArgs=ExtraArgs)
        self.stored.add(key)


class FakeSts:
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": ACCOUNT}


@dataclass(frozen=True)
class StackWithFakeS3(StackConfig):
    s3: FakeS3 = field(default_factory=lambda: FakeS3(BucketState.OURS))

    def client(self, service: str) -> Any:
        return {"s3": self.s3, "sts": FakeSts()}[service]


def on_aws(s3: FakeS3) -> StackWithFakeS3:
    return StackWithFakeS3(stage="dev", region="eu-west-1", artifact_bucket_name="artifacts", s3=s3)


@pytest.mark.parametrize(
    ("head_status", "state"),
    [(None, BucketState.OURS), (404, BucketState.MISSING), (403, BucketState.FOREIGN)],
)
def test_headbucket_with_the_expected_owner_says_whose_the_bucket_is(
    head_status: int | None, state: BucketState
) -> None:
    assert artifacts.artifact_bucket_state(head_status) is state


def test_any_other_answer_to_headbucket_stops_the_upload() -> None:
    with pytest.raises(KitError, match="HTTP 301"):
        artifacts.artifact_bucket_state(301)


def test_every_s3_call_names_this_account_as_the_owner() -> None:
    s3 = FakeS3(BucketState.MISSING)

    assert artifacts.upload_artifacts(on_aws(s3), ZIPS) == len(ZIPS)

    for name, arguments in s3.calls:
        if name == "create_bucket":  # CreateBucket takes no owner: the bucket is made by this account
            continue
        owner = arguments["ExtraArgs"] if name == "upload_file" else arguments
        assert owner["ExpectedBucketOwner"] == ACCOUNT, name


def test_a_bucket_of_another_account_is_refused_before_any_code_is_sent() -> None:
    s3 = FakeS3(BucketState.FOREIGN)

    with pytest.raises(KitError, match=f"artifacts exists and is not account {ACCOUNT}'s"):
        artifacts.upload_artifacts(on_aws(s3), ZIPS)
    assert [name for name, _ in s3.calls] == ["head_bucket"]


def test_a_bucket_taken_by_someone_else_between_the_check_and_the_create_is_refused() -> None:
    s3 = FakeS3(BucketState.MISSING)

    def taken(**arguments: Any) -> None:
        raise refusal(409, "BucketAlreadyExists")

    s3.create_bucket = taken  # type: ignore[method-assign]

    with pytest.raises(KitError, match="is not account"):
        artifacts.upload_artifacts(on_aws(s3), ZIPS)
    assert "upload_file" not in [name for name, _ in s3.calls]


def test_a_bucket_the_kit_makes_blocks_public_access_and_keeps_versions() -> None:
    s3 = FakeS3(BucketState.MISSING)

    artifacts.upload_artifacts(on_aws(s3), ZIPS)

    calls = dict(s3.calls)
    assert calls["create_bucket"]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert calls["put_public_access_block"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert calls["put_bucket_versioning"]["VersioningConfiguration"] == {"Status": "Enabled"}
    names = [name for name, _ in s3.calls]
    assert names.index("put_bucket_versioning") < names.index("upload_file")


def test_a_bucket_that_is_ours_already_is_left_as_it_is_and_only_new_zips_are_sent() -> None:
    s3 = FakeS3(BucketState.OURS, stored=(ZIPS[0].s3_key,))

    assert artifacts.upload_artifacts(on_aws(s3), ZIPS) == 1
    assert [name for name, _ in s3.calls if name.startswith(("create", "put_"))] == []


def test_a_local_engine_gets_the_same_calls_with_its_own_account() -> None:
    s3 = FakeS3(BucketState.MISSING)
    local = StackWithFakeS3(engine_url="http://127.0.0.1:4566", region="us-east-1", s3=s3)

    assert artifacts.upload_artifacts(local, ZIPS) == len(ZIPS)
    assert "CreateBucketConfiguration" not in dict(s3.calls)["create_bucket"]  # us-east-1 takes none
    assert [name for name, _ in s3.calls if name.startswith("put_")] == [
        "put_public_access_block",
        "put_bucket_versioning",
    ]
