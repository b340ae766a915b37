"""A stand-in for the AWS Sign-In service of `aws login` / `aws-session login`, served by
aws_peer.py next to STS and IAM (so AWS_ENDPOINT_URL points at both).

Built from the service model (signin 2023-01-01, CreateOAuth2Token, rest-json) and the
AWS CLI's client:

    GET  /v1/authorize?response_type=code&client_id=…&state=…&code_challenge_method=SHA-256
         &scope=openid&redirect_uri=…&code_challenge=…
        Approves the test user (POST /_peer/signin/user) at once:
        same-device (client id …/same-device, redirect_uri http://127.0.0.1:P/oauth/callback)
          -> 302 to redirect_uri?code=…&state=…  (no user: ?error=access_denied&state=…)
        cross-device (…/cross-device, redirect_uri {base}/v1/sessions/confirmation)
          -> 200 text/plain: base64("state=…&code=…"), the code a person pastes
    POST /v1/token  (JSON body, camelCase; header DPoP)
        Checks the DPoP proof (typ dpop+jwt, alg ES256, a P-256 jwk, the raw r||s
        signature, htm POST, htu = this URL, iat within 300 s, jti never seen), then
        grantType authorization_code: the code is known, unused (else 401
        AUTHCODE_EXPIRED), its clientId and redirectUri match and the PKCE verifier
        hashes to the challenge; or grantType refresh_token: the token is the current
        one of its sign-in (refresh tokens rotate), bound to the proof's key (RFC 7638
        thumbprint), and the sign-in has not ended (else 401 TOKEN_EXPIRED).
        Answers {"accessToken": {accessKeyId, secretAccessKey, sessionToken},
        "tokenType": "aws_sigv4", "expiresIn", "refreshToken", "idToken"} with session
        keys the STS/IAM peer accepts (they act as the user, with MFA context).
        Errors carry x-amzn-ErrorType and {"error", "message"}, as botocore needs.

Control endpoints (unsigned, JSON):
    POST /_peer/signin/user     {"name": "alice-1"} -> the user the next sign-ins approve
    POST /_peer/signin/settings {"expires_in": 120, "code_ttl": 300} -> lifetime of
                                 issued credentials; of authorization codes (0: expired)
    POST /_peer/signin/end      {} -> every sign-in ends: refreshes get TOKEN_EXPIRED,
                                 or {"error": "USER_CREDENTIALS_CHANGED"}
    GET  /_peer/signin/log      -> [{"grant_type", "status", "error"}] per token request
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SigninError(Exception):
    def __init__(self, status: int, shape: str, error: str, message: str):
        super().__init__(message)
        self.status, self.shape, self.error, self.message = status, shape, error, message


def denied(status: int, error: str, message: str) -> SigninError:
    return SigninError(status, "AccessDeniedException", error, message)


def invalid(message: str) -> SigninError:
    return SigninError(400, "ValidationException", "INVALID_REQUEST", message)


class SigninPeer:
    def __init__(self, issue: Callable[[str, int], dict[str, str]], user_arn: Callable[[str], str]):
        # issue(user_name, seconds) -> {"accessKeyId", "secretAccessKey", "sessionToken"}
        self.issue = issue
        self.user_arn = user_arn
        self.lock = threading.Lock()
        self.user: str | None = None
        self.expires_in = 900
        self.code_ttl = 300
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh: dict[str, dict[str, Any]] = {}
        self.jtis: set[str] = set()
        self.ended: str | None = None
        self.log: list[dict[str, Any]] = []

    # -- control ------------------------------------------------------------

    def control(self, method: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            if (method, path) == ("POST", "/_peer/signin/user"):
                self.user = data["name"]
                self.ended = None
                return 200, {"user": self.user}
            if (method, path) == ("POST", "/_peer/signin/settings"):
                self.expires_in = int(data.get("expires_in", self.expires_in))
                self.code_ttl = int(data.get("code_ttl", self.code_ttl))
                return 200, {"expires_in": self.expires_in, "code_ttl": self.code_ttl}
            if (method, path) == ("POST", "/_peer/signin/end"):
                self.ended = data.get("error", "TOKEN_EXPIRED")
                return 200, {"ended": self.ended}
            if (method, path) == ("GET", "/_peer/signin/log"):
                return 200, list(self.log)
        return 404, {"error": f"no control endpoint {method} {path}"}

    # -- HTTP ---------------------------------------------------------------

    def handle(self, environ: dict[str, Any], body: bytes, start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        base = f"http://{environ.get('HTTP_HOST', '')}"
        if environ["REQUEST_METHOD"] == "GET" and path == "/v1/authorize":
            return self.authorize(base, environ.get("QUERY_STRING", ""), start_response)
        if environ["REQUEST_METHOD"] == "POST" and path == "/v1/token":
            entry: dict[str, Any] = {"grant_type": None, "status": None, "error": None}
            try:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise invalid("the body must be a JSON object")
                entry["grant_type"] = data.get("grantType")
                answer = self.token(base + path, environ.get("HTTP_DPOP", ""), data)
                status, headers, text = 200, [], json.dumps(answer)
            except SigninError as e:
                entry["error"] = e.error
                status = e.status
                headers = [("x-amzn-ErrorType", e.shape)]
                text = json.dumps({"error": e.error, "message": e.message})
            except (ValueError, KeyError, TypeError) as e:
                entry["error"] = "INVALID_REQUEST"
                status, headers = 400, [("x-amzn-ErrorType", "ValidationException")]
                text = json.dumps({"error": "INVALID_REQUEST", "message": f"bad request: {e}"})
            entry["status"] = status
            with self.lock:
                self.log.append(entry)
            return send(start_response, status, "application/json", text, headers)
        return send(start_response, 404, "text/plain", "not found\n")

    def authorize(self, base: str, query: str, start_response: Any) -> list[bytes]:
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        client_id = q.get("client_id")
        redirect = q.get("redirect_uri", "")
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type must be code")
        if q.get("code_challenge_method") != "SHA-256":
            problems.append("code_challenge_method must be SHA-256")
        if q.get("scope") != "openid":
            problems.append("scope must be openid")
        if not q.get("state") or len(q.get("code_challenge", "")) != 43:
            problems.append("state and a 43-character code_challenge are required")
        if client_id == SAME_DEVICE:
            if not (redirect.startswith("http://127.0.0.1:") and redirect.endswith("/oauth/callback")):
                problems.append("same-device redirect_uri must be http://127.0.0.1:PORT/oauth/callback")
        elif client_id == CROSS_DEVICE:
            if redirect != base + "/v1/sessions/confirmation":
                problems.append("cross-device redirect_uri must be {base}/v1/sessions/confirmation")
        else:
            problems.append("unknown client_id")
        if problems:
            return send(start_response, 400, "text/plain", "; ".join(problems) + "\n")
        state = q["state"]
        with self.lock:
            user = self.user
            if user is not None:
                code = secrets.token_urlsafe(24)
                self.codes[code] = {
                    "client_id": client_id,
                    "redirect_uri": redirect,
                    "challenge": q["code_challenge"],
                    "user": user,
                    "expires": time.time() + self.code_ttl,
                    "used": False,
                }
        if client_id == SAME_DEVICE:
            params = {"error": "access_denied", "state": state} if user is None else {"code": code, "state": state}
            location = redirect + "?" + urlencode(params, quote_via=quote)
            return send(start_response, 302, "text/plain", "redirecting\n", [("Location", location)])
        if user is None:
            return send(start_response, 403, "text/plain", "access denied\n")
        pasted = base64.b64encode(f"state={state}&code={code}".encode()).decode()
        return send(start_response, 200, "text/plain", pasted + "\n")

    # -- CreateOAuth2Token ----------------------------------------------------

    def check_dpop(self, proof: str, url: str) -> str:
        """The RFC 7638 thumbprint of the proof's key, once the proof is checked."""
        try:
            h64, c64, s64 = proof.split(".")
            header = json.loads(b64url_decode(h64))
            claims = json.loads(b64url_decode(c64))
            sig = b64url_decode(s64)
        except (ValueError, TypeError) as e:
            raise invalid(f"DPoP proof is not a JWT: {e}")
        jwk = header.get("jwk") or {}
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise invalid("DPoP header must have typ dpop+jwt and alg ES256")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or len(sig) != 64:
            raise invalid("DPoP key must be an EC P-256 jwk and the signature 64 bytes")
        x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
        key = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            key.verify(der, f"{h64}.{c64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise invalid("DPoP signature does not verify")
        if claims.get("htm") != "POST" or claims.get("htu") != url:
            raise invalid(f"DPoP htm/htu must be POST {url}")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(time.time() - iat) > 300:
            raise invalid("DPoP iat is not fresh")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise invalid("DPoP jti missing")
        with self.lock:
            if jti in self.jtis:
                raise invalid("DPoP jti was used before")
            self.jtis.add(jti)
        canonical = json.dumps(
            {"crv": "P-256", "kty": "EC", "x": jwk["x"], "y": jwk["y"]}, separators=(",", ":")
        )
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def token(self, url: str, proof: str, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("clientId") not in (SAME_DEVICE, CROSS_DEVICE):
            raise invalid("clientId is not a known client")
        jkt = self.check_dpop(proof, url)
        grant = data.get("grantType")
        with self.lock:
            if grant == "authorization_code":
                c = self.codes.get(data.get("code", ""))
                if c is None or c["used"] or c["expires"] < time.time():
                    raise denied(401, "AUTHCODE_EXPIRED", "The authorization code has expired or was used")
                c["used"] = True
                if c["client_id"] != data["clientId"] or c["redirect_uri"] != data.get("redirectUri"):
                    raise invalid("clientId or redirectUri differ from the authorization request")
                verifier = data.get("codeVerifier", "")
                if b64url(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
                    raise invalid("codeVerifier does not match the code_challenge")
                user, include_id = c["user"], True
            elif grant == "refresh_token":
                r = self.refresh.pop(data.get("refreshToken", ""), None)
                if r is None:
                    raise denied(401, "TOKEN_EXPIRED", "The refresh token is not valid")
                if r["client_id"] != data["clientId"] or r["jkt"] != jkt:
                    raise invalid("the refresh token is bound to another client or key")
                if self.ended:
                    status = 403 if self.ended == "USER_CREDENTIALS_CHANGED" else 401
                    raise denied(status, self.ended, "The session has ended")
                user, include_id = r["user"], False
            else:
                raise invalid("grantType must be authorization_code or refresh_token")
            refresh = "ASOR" + secrets.token_urlsafe(32)
            self.refresh[refresh] = {"user": user, "client_id": data["clientId"], "jkt": jkt}
            expires_in = self.expires_in
        answer: dict[str, Any] = {
            "accessToken": self.issue(user, expires_in),
            "tokenType": "aws_sigv4",
            "expiresIn": expires_in,
            "refreshToken": refresh,
        }
        if include_id:
            now = int(time.time())
            arn = self.user_arn(user)
            claims = {"sub": arn, "aud": "arn:aws:signin:::cli/same-device",
                      "iss": "https://signin.aws.amazon.com/signin", "session_arn": arn,
                      "iat": now, "exp": now + 900}
            answer["idToken"] = ".".join([
                b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
                b64url(json.dumps(claims).encode()),
                b64url(secrets.token_bytes(32)),
            ])
        return answer


def send(start_response: Any, status: int, content_type: str, text: str,
         headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = text.encode()
    reasons = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
               403: "Forbidden", 404: "Not Found"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", content_type), ("Content-Length", str(len(data)))] + (headers or []),
    )
    return [data]
