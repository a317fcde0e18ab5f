"""How the lake's S3 client (pyarrow's, under pyiceberg and the dbt sources) retries: the
AWS SDK's standard retry mode (5xx, throttling, dropped connections; exponential backoff
with jitter), with more attempts than its default 3, read from the standard
`AWS_MAX_ATTEMPTS` like botocore does. Dagster's retry policy on the assets is the next
line of defence, for an outage longer than these attempts."""

from __future__ import annotations

import os

import pyarrow.fs as pafs

DEFAULT_MAX_ATTEMPTS = 8  # at 20 % failed requests, 0.2**8: about 3 in a million run out


def max_attempts() -> int:
    text = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_ATTEMPTS


class StandardRetries(pafs.AwsStandardS3RetryStrategy):
    """pyiceberg builds the strategy from a class path without arguments
    (`s3.retry-strategy-impl`), so the attempts come from the environment here."""

    def __init__(self) -> None:
        super().__init__(max_attempts=max_attempts())


RETRY_STRATEGY_IMPL = f"{StandardRetries.__module__}.{StandardRetries.__qualname__}"
