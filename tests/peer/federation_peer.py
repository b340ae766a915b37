"""A stand-in for the AWS federation endpoint of `aws-session console`, served by
aws_peer.py next to STS and IAM (so AWS_ENDPOINT_URL_SIGNIN can point at it).

Built from the IAM User Guide ("Enable custom identity broker access to the AWS
console") and what AWS answers there:

    GET /federation?Action=getSigninToken&Session=<url-encoded JSON>[&SessionDuration=N]
        Session is {"sessionId", "sessionKey", "sessionToken"}. The credentials must be
        real: the peer calls GetCallerIdentity with them on its own STS (a request
        SigV4-signed by botocore, checked by moto like any other), and classifies the
        caller as AWS does:
          - an assumed role (arn:…:sts::…:assumed-role/…) or a federated user
            (arn:…:sts::…:federated-user/…): accepted;
          - anything else (GetSessionToken credentials act as the IAM user): refused
            with AWS's words "Only federation tokens or assume role tokens may be used
            for federated login".
        SessionDuration: 900..43200, and only for a role session assumed with
        long-term keys (the STS peer says how each role session was made, on
        GET /_peer/sessions: "chained"); for a federation token or a chained role
        session it is refused ("Invalid credentials parameter"), as AWS does.
        -> 200 {"SigninToken": "..."}; a refusal is 400 text/plain with the reason.
    GET /federation?Action=login&Issuer=…&Destination=<url>&SigninToken=…
        -> 302 to Destination for a token issued here less than 15 minutes ago and not
           used before; else 400 text/plain.

Control endpoints (unsigned, JSON):
    GET  /_peer/federation/log  -> one entry per request, oldest first:
        {"action", "status", "reason", "kind" ("role"|"federated"|"refused"|null),
         "arn", "chained", "session_duration" (int or null), "destination", "issuer",
         "console_seconds" (how long the console session lasts, or null)}
    POST /_peer/federation/age  {"seconds": 900} -> every token issued so far is made
        that much older (to test the 15-minute limit without waiting)
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import parse_qs

ONLY_FEDERATION = "Only federation tokens or assume role tokens may be used for federated login"
INVALID_CREDENTIALS = "Invalid credentials parameter"
TOKEN_LIFETIME = 15 * 60


class Refused(Exception):
    pass


class FederationPeer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.log: list[dict[str, Any]] = []

    # -- control ------------------------------------------------------------

    def control(self, method: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            if (method, path) == ("GET", "/_peer/federation/log"):
                return 200, [dict(e) for e in self.log]
            if (method, path) == ("POST", "/_peer/federation/age"):
                seconds = float(data.get("seconds", TOKEN_LIFETIME))
                for token in self.tokens.values():
                    token["issued"] -= seconds
                return 200, {"aged": len(self.tokens)}
        return 404, {"error": f"no control endpoint {method} {path}"}

    # -- HTTP ---------------------------------------------------------------

    def handle(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        base = f"http://{environ.get('HTTP_HOST', '')}"
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        entry: dict[str, Any] = {
            "action": q.get("Action"), "status": None, "reason": None, "kind": None,
            "arn": None, "chained": None, "session_duration": None,
            "destination": q.get("Destination"), "issuer": q.get("Issuer"),
            "console_seconds": None,
        }
        try:
            if environ["REQUEST_METHOD"] != "GET":
                raise Refused("the federation endpoint takes GET")
            if q.get("Action") == "getSigninToken":
                token = self.signin_token(base, q, entry)
                status, headers, text = 200, [("Content-Type", "application/json")], json.dumps({"SigninToken": token})
            elif q.get("Action") == "login":
                destination = self.login(q)
                status, headers, text = 302, [("Location", destination), ("Content-Type", "text/plain")], ""
            else:
                raise Refused("Action must be getSigninToken or login")
        except Refused as e:
            entry["reason"] = str(e)
            status, headers, text = 400, [("Content-Type", "text/plain")], f"{e}\n"
        entry["status"] = status
        with self.lock:
            self.log.append(entry)
        data = text.encode()
        reasons = {200: "OK", 302: "Found", 400: "Bad Request"}
        start_response(f"{status} {reasons[status]}", headers + [("Content-Length", str(len(data)))])
        return [data]

    def signin_token(self, base: str, q: dict[str, str], entry: dict[str, Any]) -> str:
        try:
            session = json.loads(q.get("Session", ""))
            key, secret, token = session["sessionId"], session["sessionKey"], session["sessionToken"]
        except (ValueError, KeyError, TypeError):
            raise Refused(INVALID_CREDENTIALS)
        if not all(isinstance(v, str) and v for v in (key, secret, token)):
            raise Refused(INVALID_CREDENTIALS)
        duration = None
        if "SessionDuration" in q:
            try:
                duration = int(q["SessionDuration"])
            except ValueError:
                raise Refused("SessionDuration must be a number of seconds")
            entry["session_duration"] = duration
            if not 900 <= duration <= 43200:
                raise Refused("SessionDuration must be from 900 to 43200 seconds")
        arn = caller_arn(base, key, secret, token)
        entry["arn"] = arn
        issued = issued_credentials(base, key)
        if ":assumed-role/" in arn:
            kind = "role"
            entry["chained"] = bool(issued.get("chained")) if issued else None
        elif ":federated-user/" in arn:
            kind = "federated"
        else:
            entry["kind"] = "refused"
            raise Refused(ONLY_FEDERATION)
        entry["kind"] = kind
        if duration is not None and (kind != "role" or entry["chained"] is not False):
            raise Refused(INVALID_CREDENTIALS)
        remaining = seconds_left(issued)
        entry["console_seconds"] = duration if duration is not None else remaining
        signin = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[signin] = {"issued": time.time(), "used": False, "arn": arn}
        return signin

    def login(self, q: dict[str, str]) -> str:
        destination = q.get("Destination", "")
        if not destination.startswith(("https://", "http://")):
            raise Refused("Destination must be a URL")
        if not q.get("Issuer"):
            raise Refused("Issuer is missing")
        with self.lock:
            token = self.tokens.get(q.get("SigninToken", ""))
            if token is None:
                raise Refused("the sign-in token is not valid")
            if token["used"]:
                raise Refused("the sign-in token was used already")
            if time.time() - token["issued"] >= TOKEN_LIFETIME:
                raise Refused("the sign-in token has expired (it is valid for 15 minutes)")
            token["used"] = True
        return destination


def caller_arn(base: str, key: str, secret: str, token: str) -> str:
    """GetCallerIdentity with the credentials, signed by botocore: their ARN, or a refusal."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(
        method="POST", url=base + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(key, secret, token), "sts", "us-east-1").add_auth(request)
    prepared = request.prepare()
    call = urllib.request.Request(prepared.url, data=body.encode(), method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(call, timeout=10) as answer:
            text = answer.read().decode()
    except urllib.error.HTTPError:
        raise Refused(INVALID_CREDENTIALS)
    start, end = text.find("<Arn>"), text.find("</Arn>")
    if start < 0 or end < 0:
        raise Refused(INVALID_CREDENTIALS)
    return text[start + len("<Arn>"):end]


def issued_credentials(base: str, key: str) -> dict[str, Any] | None:
    """What the STS peer says of the temporary credentials with access key id `key`."""
    with urllib.request.urlopen(base + "/_peer/sessions", timeout=10) as answer:
        for issued in json.loads(answer.read()):
            if issued["access_key_id"] == key:
                return issued
    return None


def seconds_left(issued: dict[str, Any] | None) -> int | None:
    if not issued:
        return None
    import datetime

    expiration = datetime.datetime.fromisoformat(issued["expiration"].rstrip("Z")).replace(
        tzinfo=datetime.timezone.utc
    )
    return int((expiration - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
