"""A real client of boto3 for tests/sdk_interop.rs: calls STS GetCallerIdentity
through boto3's default session (its default credential chain, region and endpoint:
AWS_ENDPOINT_URL, as the tests set it) and prints one line of JSON,
  {"arn", "access_key_id", "has_session_token", "method"},
the ARN AWS answered and the credentials boto3 resolved ("method": botocore's name
for where it found them: "env", "shared-credentials-file", "custom-process", ...).

    .venv/bin/python whoami.py [PROFILE]   (PROFILE: boto3.Session(profile_name=PROFILE))

Exits 1 with the error on stderr.
"""

import json
import sys

import boto3


def main() -> int:
    profile = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        session = boto3.session.Session(profile_name=profile)
        credentials = session.get_credentials()
        if credentials is None:
            print("whoami.py: boto3 found no credentials", file=sys.stderr)
            return 1
        frozen = credentials.get_frozen_credentials()
        identity = session.client("sts").get_caller_identity()
    except Exception as error:  # the SDK's own words for the test's failure message
        print(f"whoami.py: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "arn": identity["Arn"],
                "access_key_id": frozen.access_key,
                "has_session_token": bool(frozen.token),
                "method": credentials.method,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
