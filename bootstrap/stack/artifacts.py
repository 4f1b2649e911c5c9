"""The artifact bucket the stack's zips are uploaded to, made private and checked to be the account's own."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from http import HTTPStatus

from botocore.exceptions import ClientError

from bootstrap.config import (
    KitError,
    StackConfig,
)
from bootstrap.packaging import BuiltZip

BLOCK_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BucketState(Enum):
    OURS = "ours"
    MISSING = "missing"
    FOREIGN = "foreign"


def artifact_bucket_state(head_status: int | None) -> BucketState:
    """What HeadBucket with ExpectedBucketOwner (our account) said: it answered (None), the bucket
    is ours; 404, there is none; 403, it belongs to another account (or this one may not read it).
    The name is predictable, so a bucket someone else made first would take, and serve back, the
    functions' code."""
    if head_status is None:
        return BucketState.OURS
    if head_status == HTTPStatus.NOT_FOUND:
        return BucketState.MISSING
    if head_status == HTTPStatus.FORBIDDEN:
        return BucketState.FOREIGN
    raise KitError(f"the artifact bucket answered HeadBucket with HTTP {head_status}")


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _foreign_bucket(bucket: str, account: str) -> KitError:
    return KitError(
        f"the artifact bucket {bucket} exists and is not account {account}'s (or this account may not read it): "
        "the functions' code must not go there; name a bucket of yours with BUCKET=..."
    )


def upload_artifacts(config: StackConfig, zips: Sequence[BuiltZip]) -> int:
    """Upload each zip under its content-hash key, unless already there; returns how many were sent.

    Every S3 call names the bucket's expected owner, this account, so S3 refuses a bucket that is
    anyone else's; a bucket made here gets Block Public Access and versioning. The local engines
    take the same calls (ministack 1.5.33 accepts the owner and does not check it)."""
    s3 = config.client("s3")
    bucket = config.artifact_bucket
    account = str(config.client("sts").get_caller_identity()["Account"])
    owner = {"ExpectedBucketOwner": account}
    try:
        s3.head_bucket(Bucket=bucket, **owner)
        state = artifact_bucket_state(None)
    except ClientError as error:
        state = artifact_bucket_state(_status(error))
    if state is BucketState.FOREIGN:
        raise _foreign_bucket(bucket, account)
    if state is BucketState.MISSING:
        where = {} if config.region == "us-east-1" else {"LocationConstraint": config.region}
        try:
            s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
        except ClientError as error:
            code = error.response["Error"].get("Code")
            if code == "BucketAlreadyExists":  # someone else's, made since the HeadBucket
                raise _foreign_bucket(bucket, account) from None
            if code != "BucketAlreadyOwnedByYou":
                raise
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_PUBLIC_ACCESS, **owner)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **owner)
    sent = 0
    for built in zips:
        try:
            s3.head_object(Bucket=bucket, Key=built.s3_key, **owner)
        except ClientError:
            s3.upload_file(str(built.path), bucket, built.s3_key, ExtraArgs=owner)
            sent += 1
    return sent
