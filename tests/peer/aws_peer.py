"""A loopback stand-in for AWS STS and IAM: moto's server, made strict where moto is lax.

Run it with the project's venv (scripts/setup-peers makes it):

    .venv/bin/python tests/peer/aws_peer.py

It listens on 127.0.0.1 on a free port, prints ONE line of JSON, {"port": N}, on
stdout once it accepts connections, and exits when its stdin reaches end of file:
a test that spawns it with a piped stdin takes it along when it dies, however it
dies. (Started by hand, keep stdin open: `sleep infinity | python aws_peer.py`.)
Several peers run side by side without sharing anything but the machine.

Every AWS API request has its SigV4 signature checked by moto (botocore's own
signer recomputes it), from the very first request. Tests set up users and devices
through the unsigned control endpoints under /_peer/ instead, which change moto's
in-process backends directly:

    POST /_peer/users        {"name": "alice", "mfa": true, "policy": optional}
        -> {"user_name", "arn", "account_id", "access_key_id", "secret_access_key",
            "mfa_serial" (or null), "mfa_seed" (base32, or null)}
        "policy" is an IAM policy document (object or JSON text) that replaces the
        default inline policy, USER_POLICY below. "extra_devices": ["u2f", "totp"]
        (optional) gives the user more MFA devices, answered as "extra_devices":
        [{"kind", "serial", "seed" (null for u2f)}]: a "u2f" is a FIDO security key
        (arn:aws:iam::ACCOUNT:u2f/user/NAME/fidosecuritykey-ID, no seed, no codes),
        listed by ListMFADevices BEFORE the virtual device, as AWS may list them; a
        "totp" is another enabled virtual device, listed after it.
    POST /_peer/roles        {"name": "admin", "max_session_duration": 3600,
                              "trusted": ["arn:aws:iam::123456789012:user/alice"],
                              "require_mfa": false}
        -> {"role_name", "arn", "max_session_duration", "require_mfa"}; "trusted"
        defaults to any principal; the role may do anything ("*"). With
        "require_mfa": true its trust policy has the condition
        {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, which the peer enforces (6.)
    GET  /_peer/log          -> every AWS API request so far, oldest first:
        {"method", "path", "service", "region", "action", "access_key_id",
         "has_security_token", "credential_kind", "params", "status"}
        "credential_kind" says what signed it, as the peer knew the key when the
        request came: "long-term" (an IAM user's access key), "session"
        (GetSessionToken), "federated" (GetFederationToken), "role" (AssumeRole),
        "unknown", or null (unsigned).
    POST /_peer/log/clear    -> empties the log
    GET  /_peer/devices      -> virtual MFA devices:
        {"serial", "user" (or null), "enabled", "seed"}
    GET  /_peer/sessions     -> credentials issued by GetSessionToken, GetFederationToken
        and AssumeRole: {"access_key_id", "kind" ("session"|"federated"|"role"), "arn",
        "mfa", "chained", "expiration"} ("mfa": whether the credentials carry MFA
        context, see 6.; "chained": whether a role session was assumed with temporary
        credentials, null for the others, see 9.)
    POST /_peer/expire       {"access_key_id": "ASIA..."} -> makes those temporary
        credentials expire now (to test ExpiredToken and refreshing without waiting)
    POST /_peer/fail         {"user": "alice-1", "action": "DeleteAccessKey", "count": 1,
                              "after": "CreateAccessKey", "code": "AccessDenied"}
        -> the next "count" requests for "action" by or about that user (signed with
        one of its keys or sessions, or naming it in UserName) fail with "code"
        (403); with "after", only those that follow a request for that action.
        Failures AWS may give at any step, which moto never gives.
    POST /_peer/lifetime     {"scale": 0.02} -> temporary credentials issued from now on
        last DurationSeconds * scale (at least 1 s) while the answers still carry AWS's
        validated durations, so a test of renewal sees several sessions end in a minute

What moto 5.2.5 lacks and this file adds (each patch below says why it exists):
  1. GetSessionToken is real: DurationSeconds, SerialNumber and TokenCode are
     validated (TOTP, RFC 6238, one use per code), it is refused to callers that
     sign with temporary credentials, and it returns fresh random credentials that
     later requests can sign with, until they expire. moto returns fixed example
     keys that it does not recognise afterwards and accepts any MFA code.
  2. Temporary credentials obey AWS's rules: a wrong session token is refused
     (InvalidClientTokenId), an expired one too (ExpiredToken); session
     credentials without MFA may not call IAM, nor STS except AssumeRole and
     GetCallerIdentity. They act as the IAM user who asked for them.
  3. AssumeRole checks DurationSeconds (900..43200, the role's
     MaxSessionDuration, and the one-hour limit of role chaining, which applies
     to any caller that signs with temporary credentials) and its MFA code.
  4. IAM MFA calls behave as AWS does: ListMFADevices and DeactivateMFADevice
     default to the calling user, EnableMFADevice needs two consecutive valid
     codes, DeleteVirtualMFADevice refuses a device still assigned to a user.
  5. A request with no signature at all is refused (MissingAuthenticationToken)
     instead of crashing moto's signature check.
  7. The AWS Sign-In service of `login` (tests/peer/signin_peer.py): /v1/authorize and
     /v1/token, with its control endpoints under /_peer/signin/; the session keys it
     issues are GetSessionToken-like sessions of the signed-in user (with MFA context).
  8. GetFederationToken is real: Name (2-32 of [\w+=,.@-]), DurationSeconds
     (900..129600) and the Policy size are checked, it is refused to callers that sign
     with temporary credentials, and it returns fresh credentials that later requests
     sign with, whose GetCallerIdentity is the federated user
     (arn:aws:sts::ACCOUNT:federated-user/NAME). They may not call IAM, and without a
     Policy they may call nothing but GetCallerIdentity (AWS: a federation token
     without a session policy has no permissions). moto returns fixed example keys.
  9. The federation endpoint of the console (tests/peer/federation_peer.py):
     /federation?Action=getSigninToken|login, with its log under /_peer/federation/.
     To tell it whether a role session may carry a SessionDuration, each role session
     records whether it was assumed with temporary credentials ("chained" in
     GET /_peer/sessions).
  6. A role made with "require_mfa" is assumed only with MFA, as AWS evaluates
     aws:MultiFactorAuthPresent in a trust policy: the AssumeRole call carries a valid
     SerialNumber + TokenCode, or it is signed with credentials that carry MFA context
     (a GetSessionToken session made with MFA, or a role session that was assumed with
     MFA: the context is passed along a role chain). Otherwise AccessDenied "User: ...
     is not authorized to perform: sts:AssumeRole on resource: <role arn>". moto
     evaluates no trust policy at all.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import struct
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

# moto reads these when it is imported. Signature enforcement is on from the first
# request: INITIAL_NO_AUTH_ACTION_COUNT is the number of requests moto lets through
# unchecked, and our setup never goes through the API (it uses /_peer/ endpoints).
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
# Every request lands in one account, whatever its access key (moto would otherwise
# guess the account from the key, and fall back to this one anyway).
ACCOUNT_ID = "123456789012"
os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT_ID
PARTITION = "aws"

from federation_peer import FederationPeer  # noqa: E402
from signin_peer import SigninPeer  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import moto.iam.access_control as access_control  # noqa: E402
from moto import settings  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.iam.models import IAMBackend, iam_backends  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.sts.models import STSBackend, sts_backends  # noqa: E402
from moto.sts.responses import TokenResponse  # noqa: E402

assert settings.INITIAL_NO_AUTH_ACTION_COUNT == 0, "signature enforcement must be on"

# The default inline policy of users made by POST /_peer/users: what aws-session
# needs (STS and IAM MFA calls) plus what tests run inside a session (the AWS CLI
# on S3, IAM reads). Listed rather than "*" so that a call the tool should not
# make shows up as AccessDenied.
USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "sts:GetSessionToken",
                "sts:GetCallerIdentity",
                "sts:AssumeRole",
                "sts:GetFederationToken",
                "iam:ListMFADevices",
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:DeleteVirtualMFADevice",
                "iam:DeactivateMFADevice",
                "iam:GetUser",
                "iam:ListUsers",
                "iam:ListAccessKeys",
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "s3:*",
            ],
            "Resource": "*",
        }
    ],
}

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"

LOCK = threading.RLock()


def iam_backend() -> IAMBackend:
    return iam_backends[ACCOUNT_ID][PARTITION]


def utcnow() -> datetime.datetime:
    # Naive UTC, as moto's models keep their dates.
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# --------------------------------------------------------------------------
# Errors shaped as AWS Query APIs send them
# --------------------------------------------------------------------------


class AwsError(HTTPException):
    """An AWS error response: <ErrorResponse><Error><Type/><Code/><Message/>.

    moto turns a werkzeug HTTPException raised by a handler or by the signature
    check into a response with this body and status.
    """

    def __init__(self, status: int, code: str, message: str, namespace: str = STS_NS):
        super().__init__()
        self.code = status
        self.error_code = code
        self.message = message
        self.description = (
            f'<ErrorResponse xmlns="{namespace}">'
            f"<Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml")]

    def get_body(self, *args: Any, **kwargs: Any) -> str:
        return self.description


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def validation_error(value: Any, member: str, constraint: str) -> AwsError:
    # The wording AWS uses for a parameter outside its modelled constraints.
    return AwsError(
        400,
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{member}' failed to "
        f"satisfy constraint: Member must {constraint}",
    )


def check_range(raw: str | None, member: str, low: int, high: int) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise AwsError(400, "ValidationError", f"Invalid value for {member}: {raw}")
    if value < low:
        raise validation_error(value, member, f"have value greater than or equal to {low}")
    if value > high:
        raise validation_error(value, member, f"have value less than or equal to {high}")
    return value


# --------------------------------------------------------------------------
# TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps), as AWS virtual MFA uses it
# --------------------------------------------------------------------------


def totp(seed_base32: str, step: int) -> str:
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def current_step() -> int:
    return int(time.time()) // 30


# AWS accepts a code once: (serial, time step) pairs already used to get credentials.
USED_CODES: set[tuple[str, int]] = set()

MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify "
    "your MFA serial number is valid and associated with this user."
)


def check_mfa(user_name: str | None, serial: str | None, code: str | None) -> bool:
    """Validate SerialNumber + TokenCode of GetSessionToken / AssumeRole.

    Returns whether the request carried (valid) MFA. moto accepts any code.
    """
    if serial is None and code is None:
        return False
    if code is not None and not re.fullmatch(r"\d{6}", code):
        constraint = (
            "satisfy regular expression pattern: [\\d]*"
            if len(code) == 6
            else f"have length {'greater' if len(code) < 6 else 'less'} than or equal to 6"
        )
        raise validation_error(code, "tokenCode", constraint)
    if serial is not None and not (9 <= len(serial) <= 256):
        constraint = (
            "have length greater than or equal to 9"
            if len(serial) < 9
            else "have length less than or equal to 256"
        )
        raise validation_error(serial, "serialNumber", constraint)
    if serial is None or code is None:
        # One without the other: AWS cannot authenticate the MFA.
        raise AwsError(403, "AccessDenied", MFA_UNKNOWN_DEVICE)
    user = iam_backend().users.get(user_name) if user_name else None
    if user is None or serial not in user.mfa_devices:
        raise AwsError(403, "AccessDenied", MFA_UNKNOWN_DEVICE)
    device = iam_backend().virtual_mfa_devices.get(serial)
    if device is None:
        raise AwsError(403, "AccessDenied", MFA_UNKNOWN_DEVICE)
    now = current_step()
    with LOCK:
        for step in (now - 1, now, now + 1):
            if totp(device.base32_string_seed, step) == code:
                if (serial, step) in USED_CODES:
                    break  # a reused code is refused like a wrong one
                USED_CODES.add((serial, step))
                return True
    raise AwsError(403, "AccessDenied", MFA_INVALID_CODE)


# --------------------------------------------------------------------------
# Temporary credentials: what GetSessionToken issues, and how requests signed
# with them are authenticated
# --------------------------------------------------------------------------


class Session:
    """Credentials returned by GetSessionToken for an IAM user."""

    def __init__(
        self,
        user_name: str,
        duration: int,
        mfa: bool,
        federated: str | None = None,
        policy: str | None = None,
    ):
        self.user_name = user_name
        # GetFederationToken: the federated user's name and the session policy.
        self.federated = federated
        self.policy = policy
        self.access_key_id = "ASIA" + "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)
        )
        self.secret_access_key = base64.b64encode(secrets.token_bytes(30)).decode()
        # Real tokens are long opaque base64 blobs; length matters for headers.
        self.session_token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(
            secrets.token_bytes(300)
        ).decode()
        self.mfa = mfa
        self.expiration = utcnow().replace(microsecond=0) + scaled_lifetime(duration)

    @property
    def arn(self) -> str:
        if self.federated is not None:
            return f"arn:{PARTITION}:sts::{ACCOUNT_ID}:federated-user/{self.federated}"
        return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/{self.user_name}"


SESSIONS: dict[str, Session] = {}

# POST /_peer/lifetime: the factor applied to the lifetime of temporary credentials.
LIFETIME_SCALE = 1.0


def scaled_lifetime(duration: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=max(1, int(duration * LIFETIME_SCALE)))


class SessionAccessKey(access_control.IAMUserAccessKey):
    """moto's view of a request signed with GetSessionToken credentials.

    moto knows IAM user keys (AKIA, no token) and assumed-role keys; a session of
    an IAM user is neither. It signs with the session's secret and token, and has
    the user's identity and policies (collect_policies is inherited).
    """

    def __init__(self, session: Session, headers: Any):
        self.account_id = ACCOUNT_ID
        self.partition = PARTITION
        self.session = session
        self._owner_user_name = session.user_name
        self._access_key_id = session.access_key_id
        self._secret_access_key = session.secret_access_key
        if headers.get("X-Amz-Security-Token") != session.session_token:
            raise access_control.CreateAccessKeyFailure(reason="InvalidToken")
        if utcnow() >= session.expiration:
            raise expired_token()

    def create_credentials(self) -> Any:
        from botocore.credentials import Credentials

        return Credentials(
            self._access_key_id, self._secret_access_key, self.session.session_token
        )


def invalid_client_token(namespace: str) -> AwsError:
    return AwsError(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        namespace,
    )


def expired_token() -> AwsError:
    return AwsError(403, "ExpiredToken", "The security token included in the request is expired")


_original_create_access_key = access_control.create_access_key


def create_access_key(
    account_id: str, partition: str, access_key_id: str, headers: Any
) -> Any:
    """Patch: moto's lookup of the key a request is signed with.

    Adds GetSessionToken credentials (unknown to moto), and the expiry of
    AssumeRole credentials (moto accepts them forever).
    """
    session = SESSIONS.get(access_key_id)
    if session is not None:
        return SessionAccessKey(session, headers)
    key = _original_create_access_key(account_id, partition, access_key_id, headers)
    if isinstance(key, access_control.AssumedRoleAccessKey):
        role = sts_backends[account_id][partition].get_assumed_role_from_access_key(
            access_key_id
        )
        if role is not None and utcnow() >= role.expiration:
            raise expired_token()
    return key


access_control.create_access_key = create_access_key


class PeerIAMRequest(access_control.IAMRequest):
    """Patch: moto's per-request authentication and authorization, with AWS's
    rules for temporary credentials that moto does not know, and its errors in
    the shape STS and IAM send (moto's have EC2's <Errors> wrapper and no
    namespace)."""

    def _namespace(self) -> str:
        return IAM_NS if self._service == "iam" else STS_NS

    def _raise_signature_does_not_match(self) -> None:
        raise AwsError(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method. Consult "
            "the service documentation for details.",
            self._namespace(),
        )

    def _raise_invalid_access_key(self, _: str) -> None:
        raise invalid_client_token(self._namespace())

    def _raise_access_denied(self) -> None:
        raise AwsError(
            403,
            "AccessDenied",
            f"User: {self._access_key.arn} is not authorized to perform: {self._action}",
            self._namespace(),
        )

    def check_action_permitted(self, resource: str) -> None:
        temporary = "X-Amz-Security-Token" in self._headers
        if self._action == "sts:GetSessionToken":
            if temporary:
                raise AwsError(
                    403, "AccessDenied", "Cannot call GetSessionToken with session credentials"
                )
            # "No permissions are required for users to perform this operation."
            return
        if self._action == "sts:GetFederationToken" and temporary:
            raise AwsError(
                403, "AccessDenied", "Cannot call GetFederationToken with session credentials"
            )
        key = self._access_key
        if isinstance(key, SessionAccessKey) and key.session.federated is not None:
            # A federation token: never IAM; without a session policy, nothing but
            # GetCallerIdentity.
            if self._service == "iam" or (
                key.session.policy is None and self._action != "sts:GetCallerIdentity"
            ):
                raise AwsError(
                    403,
                    "AccessDenied",
                    f"User: {key.session.arn} is not authorized to perform: {self._action}",
                    self._namespace(),
                )
        if isinstance(key, SessionAccessKey) and not key.session.mfa:
            # GetSessionToken credentials without MFA cannot call IAM, nor STS
            # except AssumeRole and GetCallerIdentity (AWS answers the IAM calls
            # as if the token were not valid).
            if self._service == "iam":
                raise invalid_client_token(IAM_NS)
            if self._service == "sts" and self._action not in (
                "sts:AssumeRole",
                "sts:GetCallerIdentity",
            ):
                self._raise_access_denied()
        super().check_action_permitted(resource)


# moto imports IAMRequest from this module at each request.
access_control.IAMRequest = PeerIAMRequest  # type: ignore[misc]


_original_get_user_from_access_key_id = IAMBackend.get_user_from_access_key_id


def get_user_from_access_key_id(self: IAMBackend, access_key_id: str) -> Any:
    """Patch: GetCallerIdentity, GetUser and friends resolve session keys to
    their IAM user (moto would answer with a made-up identity)."""
    session = SESSIONS.get(access_key_id)
    if session is not None:
        return self.users.get(session.user_name)
    return _original_get_user_from_access_key_id(self, access_key_id)


IAMBackend.get_user_from_access_key_id = get_user_from_access_key_id  # type: ignore[method-assign]


def calling_user_name(response: Any) -> str | None:
    user = iam_backend().get_user_from_access_key_id(response.get_access_key())
    return user.name if user is not None else None


# --------------------------------------------------------------------------
# STS handlers
# --------------------------------------------------------------------------


def get_session_token(self: TokenResponse) -> ActionResult:
    """Patch: a real GetSessionToken (see the module docs, point 1)."""
    duration = check_range(self._get_param("DurationSeconds"), "durationSeconds", 900, 129600)
    user_name = calling_user_name(self)
    if user_name is None:  # signed by an assumed role's or unknown long-term key
        raise AwsError(403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
    mfa = check_mfa(user_name, self._get_param("SerialNumber"), self._get_param("TokenCode"))
    session = Session(user_name, duration or 43200, mfa)
    with LOCK:
        SESSIONS[session.access_key_id] = session
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": session.expiration,
            }
        }
    )


TokenResponse.get_session_token = get_session_token  # type: ignore[method-assign]


def get_federation_token(self: TokenResponse) -> ActionResult:
    """Patch: a real GetFederationToken (see the module docs, point 8)."""
    duration = check_range(self._get_param("DurationSeconds"), "durationSeconds", 900, 129600)
    name = self._get_param("Name") or ""
    if not re.fullmatch(r"[\w+=,.@-]{2,32}", name):
        raise validation_error(
            name, "name", "have length from 2 to 32 and satisfy regular expression pattern: [\\w+=,.@-]*"
        )
    policy = self._get_param("Policy")
    if policy is not None and len(policy) > 2048:
        raise validation_error("...", "policy", "have length less than or equal to 2048")
    user_name = calling_user_name(self)
    if user_name is None:
        raise AwsError(403, "AccessDenied", "Cannot call GetFederationToken with session credentials")
    session = Session(user_name, duration or 43200, False, federated=name, policy=policy)
    with LOCK:
        SESSIONS[session.access_key_id] = session
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": session.expiration,
            },
            "FederatedUser": {
                "FederatedUserId": f"{ACCOUNT_ID}:{name}",
                "Arn": session.arn,
            },
            "PackedPolicySize": 6,
        }
    )


TokenResponse.get_federation_token = get_federation_token  # type: ignore[method-assign]

_original_get_caller_identity = STSBackend.get_caller_identity


def get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
    """Patch: a federation token's caller is the federated user, not the IAM user."""
    session = SESSIONS.get(access_key_id)
    if session is not None and session.federated is not None:
        return f"{ACCOUNT_ID}:{session.federated}", session.arn, ACCOUNT_ID
    return _original_get_caller_identity(self, access_key_id, region)


STSBackend.get_caller_identity = get_caller_identity  # type: ignore[method-assign]

_original_assume_role = TokenResponse.assume_role

ROLE_CHAINING_LIMIT = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles "
    "assumed by role chaining."
)


# Roles whose trust policy requires MFA (by ARN), and the MFA context of the role
# sessions issued (by access key id): module docs, point 6.
MFA_ROLES: set[str] = set()
ROLE_SESSION_MFA: dict[str, bool] = {}
# Whether each role session (by access key id) was assumed with temporary credentials.
ROLE_SESSION_CHAINED: dict[str, bool] = {}


def caller_arn(response: Any) -> str:
    """The ARN AWS names in an AccessDenied for the caller of `response`."""
    key_id = response.get_access_key()
    session = SESSIONS.get(key_id)
    if session is not None:
        return session.arn
    role = sts_backends[ACCOUNT_ID][PARTITION].get_assumed_role_from_access_key(key_id)
    if role is not None:
        return role.arn
    user = iam_backend().get_user_from_access_key_id(key_id)
    return user.arn if user is not None else f"arn:{PARTITION}:iam::{ACCOUNT_ID}:unknown"


def caller_has_mfa(response: Any) -> bool:
    """Whether the credentials signing `response` carry MFA context."""
    key_id = response.get_access_key()
    session = SESSIONS.get(key_id)
    if session is not None:
        return session.mfa
    return ROLE_SESSION_MFA.get(key_id, False)


def assume_role(self: TokenResponse) -> ActionResult:
    """Patch: AssumeRole's duration limits and MFA checks (module docs, points 3 and 6)."""
    role_arn = self._get_param("RoleArn") or ""
    try:
        role = iam_backend().get_role_by_arn(role_arn)
    except Exception:
        role = None
    duration = check_range(self._get_param("DurationSeconds"), "durationSeconds", 900, 43200)
    if duration is not None:
        if "X-Amz-Security-Token" in self.headers and duration > 3600:
            raise AwsError(400, "ValidationError", ROLE_CHAINING_LIMIT)
        if role is not None and duration > int(role.max_session_duration or 3600):
            raise AwsError(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
    code_mfa = check_mfa(
        calling_user_name(self), self._get_param("SerialNumber"), self._get_param("TokenCode")
    )
    mfa = code_mfa or caller_has_mfa(self)
    if role is not None and role.arn in MFA_ROLES and not mfa:
        raise AwsError(
            403,
            "AccessDenied",
            f"User: {caller_arn(self)} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role.arn}",
        )
    result = _original_assume_role(self)
    credentials = result.result.get("Credentials") if isinstance(result.result, dict) else None
    key_id = getattr(credentials, "access_key_id", None)
    if key_id is not None:
        with LOCK:
            ROLE_SESSION_MFA[key_id] = mfa
            ROLE_SESSION_CHAINED[key_id] = "X-Amz-Security-Token" in self.headers
            if LIFETIME_SCALE != 1.0:
                credentials.expiration = utcnow().replace(microsecond=0) + scaled_lifetime(
                    duration or 3600
                )
    return result


TokenResponse.assume_role = assume_role  # type: ignore[method-assign]


# --------------------------------------------------------------------------
# IAM handlers (module docs, point 4)
# --------------------------------------------------------------------------

_original_list_mfa_devices = IamResponse.list_mfa_devices
_original_deactivate_mfa_device = IamResponse.deactivate_mfa_device
_original_enable_mfa_device = IamResponse.enable_mfa_device
_original_delete_virtual_mfa_device = IamResponse.delete_virtual_mfa_device


def default_user_name(response: IamResponse) -> None:
    # "If you do not specify a user name, IAM determines the user name implicitly
    # based on the Amazon Web Services access key ID signing the request."
    if not response._get_param("UserName"):
        name = calling_user_name(response)
        if name is not None:
            response.querystring["UserName"] = [name]
            if getattr(response, "params", None) is not None:
                response.params["UserName"] = name


def list_mfa_devices(self: IamResponse) -> ActionResult:
    default_user_name(self)
    return _original_list_mfa_devices(self)


def deactivate_mfa_device(self: IamResponse) -> ActionResult:
    default_user_name(self)
    return _original_deactivate_mfa_device(self)


def enable_mfa_device(self: IamResponse) -> ActionResult:
    serial = self._get_param("SerialNumber")
    codes = [self._get_param("AuthenticationCode1"), self._get_param("AuthenticationCode2")]
    for member, code in zip(("authenticationCode1", "authenticationCode2"), codes):
        if code is None or not re.fullmatch(r"\d{6}", code):
            raise AwsError(
                400,
                "ValidationError",
                f"1 validation error detected: Value '{code}' at '{member}' failed to "
                "satisfy constraint: Member must have length 6 and match [\\d]+",
                IAM_NS,
            )
    device = iam_backend().virtual_mfa_devices.get(serial)
    if device is not None:
        now = current_step()
        # Two consecutive codes, the second no later than the next step.
        if not any(
            totp(device.base32_string_seed, step) == codes[0]
            and totp(device.base32_string_seed, step + 1) == codes[1]
            for step in range(now - 3, now + 1)
        ):
            raise AwsError(
                403, "InvalidAuthenticationCode", "Authentication code for device is not valid.", IAM_NS
            )
    return _original_enable_mfa_device(self)


def delete_virtual_mfa_device(self: IamResponse) -> ActionResult:
    device = iam_backend().virtual_mfa_devices.get(self._get_param("SerialNumber"))
    if device is not None and device.user is not None:
        raise AwsError(409, "DeleteConflict", "MFA Device is still in use", IAM_NS)
    return _original_delete_virtual_mfa_device(self)


IamResponse.list_mfa_devices = list_mfa_devices  # type: ignore[method-assign]
IamResponse.deactivate_mfa_device = deactivate_mfa_device  # type: ignore[method-assign]
IamResponse.enable_mfa_device = enable_mfa_device  # type: ignore[method-assign]
IamResponse.delete_virtual_mfa_device = delete_virtual_mfa_device  # type: ignore[method-assign]


# --------------------------------------------------------------------------
# Control endpoints (/_peer/) and the request log
# --------------------------------------------------------------------------

LOG: list[dict[str, Any]] = []


def create_user(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[\w+=,.@-]{1,64}", name):
        raise ValueError("name must be an IAM user name")
    policy = body.get("policy", USER_POLICY)
    if not isinstance(policy, str):
        policy = json.dumps(policy)
    extra = body.get("extra_devices") or []
    if not isinstance(extra, list) or any(kind not in ("u2f", "totp") for kind in extra):
        raise ValueError('extra_devices must be a list of "u2f" and "totp"')
    backend = iam_backend()
    with LOCK:
        if name in backend.users:
            raise ValueError(f"user {name} exists already")
        user = backend.create_user(region_name="us-east-1", user_name=name)
        # AWS user ids are AIDA + 17 characters; moto makes up lowercase ones.
        user.id = "AIDA" + "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17)
        )
        key = backend.create_access_key(user_name=name)
        backend.put_user_policy(name, "aws-session-test", policy)
        extra_devices: list[dict[str, Any]] = []
        # Security keys first: ListMFADevices answers in the order the user's devices
        # were added, and a client that takes the first device gets one that
        # GetSessionToken cannot use (it takes codes, a FIDO key makes none).
        for kind in extra:
            if kind == "u2f":
                key_id = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(26))
                u2f = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:u2f/user/{name}/fidosecuritykey-{key_id}"
                user.enable_mfa_device(u2f, "", "")
                extra_devices.append({"kind": "u2f", "serial": u2f, "seed": None})
        serial = seed = None
        if body.get("mfa"):
            device = backend.create_virtual_mfa_device(name, "/")
            serial, seed = device.serial_number, device.base32_string_seed
            step = current_step()
            backend.enable_mfa_device(name, serial, totp(seed, step - 1), totp(seed, step))
        for number, kind in enumerate(extra):
            if kind == "totp":
                device = backend.create_virtual_mfa_device(f"{name}-totp{number}", "/")
                step = current_step()
                other = device.base32_string_seed
                backend.enable_mfa_device(
                    name, device.serial_number, totp(other, step - 1), totp(other, step)
                )
                extra_devices.append({"kind": "totp", "serial": device.serial_number, "seed": other})
    return {
        "user_name": name,
        "arn": user.arn,
        "account_id": ACCOUNT_ID,
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
        "mfa_serial": serial,
        "mfa_seed": seed,
        "extra_devices": extra_devices,
    }


def create_role(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[\w+=,.@-]{1,64}", name):
        raise ValueError("name must be an IAM role name")
    max_duration = int(body.get("max_session_duration", 3600))
    trusted = body.get("trusted") or "*"
    require_mfa = bool(body.get("require_mfa", False))
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": trusted},
        "Action": "sts:AssumeRole",
    }
    if require_mfa:
        statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    backend = iam_backend()
    with LOCK:
        role = backend.create_role(
            role_name=name,
            assume_role_policy_document=json.dumps(trust),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=str(max_duration),
        )
        backend.put_role_policy(name, "aws-session-test", json.dumps(allow_all))
        if require_mfa:
            MFA_ROLES.add(role.arn)
    return {
        "role_name": name,
        "arn": role.arn,
        "max_session_duration": max_duration,
        "require_mfa": require_mfa,
    }


def list_devices() -> list[dict[str, Any]]:
    return [
        {
            "serial": device.serial_number,
            "user": device.user.name if device.user is not None else None,
            "enabled": device.enable_date is not None,
            "seed": device.base32_string_seed,
        }
        for device in list(iam_backend().virtual_mfa_devices.values())
    ]


def list_sessions() -> list[dict[str, Any]]:
    out = [
        {
            "access_key_id": s.access_key_id,
            "kind": "session" if s.federated is None else "federated",
            "arn": s.arn,
            "mfa": s.mfa,
            "chained": None,
            "expiration": s.expiration.isoformat() + "Z",
        }
        for s in list(SESSIONS.values())
    ]
    for role in list(sts_backends[ACCOUNT_ID][PARTITION].assumed_roles):
        out.append(
            {
                "access_key_id": role.access_key_id,
                "kind": "role",
                "arn": role.arn,
                "mfa": ROLE_SESSION_MFA.get(role.access_key_id),
                "chained": ROLE_SESSION_CHAINED.get(role.access_key_id),
                "expiration": role.expiration.isoformat() + "Z",
            }
        )
    return out


def set_lifetime_scale(body: dict[str, Any]) -> dict[str, Any]:
    global LIFETIME_SCALE
    scale = body.get("scale")
    if not isinstance(scale, (int, float)) or not 0 < scale <= 1:
        raise ValueError("scale must be a number in (0, 1]")
    with LOCK:
        LIFETIME_SCALE = float(scale)
    return {"scale": LIFETIME_SCALE}


def expire(body: dict[str, Any]) -> dict[str, Any]:
    key_id = body.get("access_key_id")
    past = utcnow() - datetime.timedelta(seconds=1)
    with LOCK:
        if key_id in SESSIONS:
            SESSIONS[key_id].expiration = past
            return {"expired": key_id}
        role = sts_backends[ACCOUNT_ID][PARTITION].get_assumed_role_from_access_key(key_id)
        if role is not None:
            role.expiration = past
            return {"expired": key_id}
    raise LookupError(f"no temporary credentials with access key id {key_id}")


# POST /_peer/fail: failures to inject, see the docstring.
FAILS: list[dict[str, Any]] = []


def add_failure(body: dict[str, Any]) -> dict[str, Any]:
    user, action = body.get("user"), body.get("action")
    if not isinstance(user, str) or not isinstance(action, str):
        raise ValueError("user and action must be strings")
    fail = {
        "user": user,
        "action": action,
        "count": int(body.get("count", 1)),
        "after": body.get("after"),
        "code": str(body.get("code", "AccessDenied")),
    }
    with LOCK:
        FAILS.append(fail)
    return fail


def request_user(entry: dict[str, Any]) -> str | None:
    named = entry["params"].get("UserName")
    if named:
        return named
    key_id = entry.get("access_key_id")
    if not key_id:
        return None
    try:
        user = iam_backend().get_user_from_access_key_id(key_id)
    except Exception:  # an unknown key: moto answers that one itself
        return None
    return user.name if user is not None else None


def injected_failure(entry: dict[str, Any]) -> AwsError | None:
    with LOCK:
        if not FAILS:
            return None
    user = request_user(entry)
    with LOCK:
        for fail in FAILS:
            if fail["user"] != user:
                continue
            if fail["after"]:
                if entry["action"] == fail["after"]:
                    fail["after"] = None
                continue
            if entry["action"] == fail["action"] and fail["count"] > 0:
                fail["count"] -= 1
                namespace = IAM_NS if entry["service"] == "iam" else STS_NS
                return AwsError(403, fail["code"], "failure injected by the test peer", namespace)
    return None


def issue_signin_keys(user_name: str, seconds: int) -> dict[str, str]:
    """Session keys for a sign-in of `user_name` that the STS/IAM peer accepts."""
    session = Session(user_name, seconds, True)
    with LOCK:
        SESSIONS[session.access_key_id] = session
    return {
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
    }


FEDERATION = FederationPeer()

SIGNIN = SigninPeer(issue_signin_keys, lambda name: f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/{name}")


def control(method: str, path: str, body: bytes) -> tuple[int, Any]:
    try:
        data = json.loads(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        if path.startswith("/_peer/signin/"):
            return SIGNIN.control(method, path, data)
        if path.startswith("/_peer/federation/"):
            return FEDERATION.control(method, path, data)
        if (method, path) == ("POST", "/_peer/users"):
            return 200, create_user(data)
        if (method, path) == ("POST", "/_peer/roles"):
            return 200, create_role(data)
        if (method, path) == ("GET", "/_peer/log"):
            with LOCK:
                return 200, [dict(entry) for entry in LOG]
        if (method, path) == ("POST", "/_peer/log/clear"):
            with LOCK:
                LOG.clear()
            return 200, {"cleared": True}
        if (method, path) == ("GET", "/_peer/devices"):
            return 200, list_devices()
        if (method, path) == ("GET", "/_peer/sessions"):
            return 200, list_sessions()
        if (method, path) == ("POST", "/_peer/expire"):
            return 200, expire(data)
        if (method, path) == ("POST", "/_peer/fail"):
            return 200, add_failure(data)
        if (method, path) == ("POST", "/_peer/lifetime"):
            return 200, set_lifetime_scale(data)
        return 404, {"error": f"no control endpoint {method} {path}"}
    except LookupError as error:
        return 404, {"error": str(error)}
    except Exception as error:  # a bad request from a test: say what it was
        return 400, {"error": f"{type(error).__name__}: {error}"}


CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


def describe(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """One log entry: who called what, as the peer saw it."""
    params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        for key, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            params.setdefault(key, []).extend(values)
    flat = {key: values[0] for key, values in params.items()}
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = CREDENTIAL_RE.search(auth) or CREDENTIAL_RE.search(
        "Credential=" + flat.get("X-Amz-Credential", "")
    )
    return {
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "service": match.group(3) if match else None,
        "region": match.group(2) if match else None,
        "action": flat.get("Action"),
        "access_key_id": match.group(1) if match else None,
        "has_security_token": "HTTP_X_AMZ_SECURITY_TOKEN" in environ
        or "X-Amz-Security-Token" in flat,
        "credential_kind": credential_kind(match.group(1)) if match else None,
        "params": {k: v for k, v in flat.items() if not k.startswith("X-Amz-")},
        "status": None,
    }


def credential_kind(access_key_id: str) -> str:
    """What an access key id is to the peer: which kind of credentials signed."""
    with LOCK:
        if access_key_id in SESSIONS:
            return "session" if SESSIONS[access_key_id].federated is None else "federated"
        sts = sts_backends[ACCOUNT_ID][PARTITION]
        if sts.get_assumed_role_from_access_key(access_key_id) is not None:
            return "role"
        for user in list(iam_backend().users.values()):
            if any(key.access_key_id == access_key_id for key in user.access_keys):
                return "long-term"
    return "unknown"


# STS calls that AWS takes without a signature.
UNSIGNED_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


class PeerApp:
    """WSGI app in front of moto: control endpoints, request log, unsigned refusal."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = read_body(environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_peer/"):
            status, payload = control(environ["REQUEST_METHOD"], path, body)
            return respond(start_response, status, "application/json", json.dumps(payload))
        if path.startswith("/v1/"):
            return SIGNIN.handle(environ, body, start_response)
        if path == "/federation":
            return FEDERATION.handle(environ, start_response)
        if path.startswith("/moto-api/"):
            # moto's own control API could switch signature checks off
            # (reset-auth) or wipe the users; tests use /_peer/ only.
            return respond(start_response, 403, "text/plain", "moto-api is disabled in this peer\n")

        entry = describe(environ, body)
        with LOCK:
            LOG.append(entry)
        environ["wsgi.input"] = io.BytesIO(body)

        def record_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            entry["status"] = int(status.split()[0])
            if entry["status"] >= 400:
                # moto sends errors raised by its signature check as text/html;
                # they are XML, as AWS labels them.
                headers = [
                    ("Content-Type", "text/xml")
                    if name.lower() == "content-type" and value.startswith("text/html")
                    else (name, value)
                    for name, value in headers
                ]
            return start_response(status, headers, exc_info)

        if (
            entry["access_key_id"] is None
            and entry["action"] is not None
            and entry["action"] not in UNSIGNED_ACTIONS
        ):
            # moto's signature check would crash (500) on the missing header.
            error = AwsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
            return respond(record_status, 403, "text/xml", error.description)
        injected = injected_failure(entry)
        if injected is not None:
            return respond(record_status, 403, "text/xml", injected.description)
        return self.moto(environ, record_status)


def read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def respond(start_response: Any, status: int, content_type: str, text: str) -> list[bytes]:
    data = text.encode()
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", content_type), ("Content-Length", str(len(data)))],
    )
    return [data]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main() -> None:
    if os.environ.get("AWS_PEER_VERBOSE") != "1":
        # One line per request on stderr is noise in test output; errors stay.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = PeerApp()
    # Load the STS and IAM backends now, so the first request of a test is not
    # the one that pays for importing them.
    for service in ("sts", "iam"):
        scope = f"AKIDEXAMPLE/20200101/us-east-1/{service}/aws4_request"
        app.moto.get_application(
            {
                "HTTP_HOST": "127.0.0.1",
                "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={scope}, Signature=0",
                "PATH_INFO": "/",
                "REQUEST_METHOD": "POST",
            }
        )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({"port": server.server_port}) + "\n")
    sys.stdout.flush()
    # Live as long as whoever holds our stdin.
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, KeyboardInterrupt):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
