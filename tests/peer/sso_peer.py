"""A stand-in for IAM Identity Center (OIDC and the access portal), served by aws_peer.py
next to STS and IAM, so AWS_ENDPOINT_URL points at all of them.

Built from the service models botocore ships (sso-oidc 2019-06-10 and sso 2019-06-10,
rest-json; errors carry x-amzn-ErrorType and {"error", "error_description"} for OIDC,
{"message"} for the portal) and the AWS CLI v2's client:

  OIDC
    POST /client/register          RegisterClient: a public client; grantTypes,
                                   redirectUris, issuerUrl, scopes kept. Answers
                                   clientId, clientSecret, clientIdIssuedAt,
                                   clientSecretExpiresAt (the registration's lifetime).
    POST /device_authorization     StartDeviceAuthorization: deviceCode, userCode,
                                   verificationUri(Complete), expiresIn, interval.
    GET  /authorize                the authorization-code flow (not in the model): the
                                   client must be registered for authorization_code with
                                   redirect http://127.0.0.1/oauth/callback; the request's
                                   redirect_uri is that with a port; code_challenge_method
                                   S256 and a 43-character unpadded challenge; scopes
                                   space-separated and registered. 302 to
                                   redirect_uri?code=…&state=… (denied: ?error=access_denied).
    POST /token                    CreateToken, every grant: device_code (pending until
                                   approved, SlowDownException when polled faster than the
                                   interval, AccessDeniedException when denied,
                                   ExpiredTokenException when the code expired),
                                   authorization_code (code used once, same client and
                                   redirect_uri, PKCE verifier checked), refresh_token
                                   (rotated; InvalidGrantException when refused or unknown).
                                   Unknown or expired client: InvalidClientException (401).
                                   A refresh token is issued to clients registered for
                                   refresh_token or with scopes (legacy device clients
                                   registered without scopes get none, as at AWS).
  Portal (bearer token in x-amz-sso_bearer_token; UnauthorizedException 401 otherwise)
    GET  /federation/credentials   GetRoleCredentials: REAL role keys of moto (the role
                                   must exist in the IAM peer), expiration in epoch ms;
                                   a role not assigned: ForbiddenException 403 "No access".
    GET  /assignment/accounts      ListAccounts, paginated (nextToken).
    GET  /assignment/roles         ListAccountRoles, paginated.
    POST /logout                   Logout: the access token and its refresh tokens end.

Control endpoints (unsigned, JSON):
    POST /_peer/sso/settings     {"token_ttl": s, "client_ttl": s, "role_seconds": s,
                                  "device": "approve"|"deny"|"expire", "pending_polls": n,
                                  "interval": s, "browser": "approve"|"deny",
                                  "refuse_refresh": bool, "page_size": n}
    POST /_peer/sso/assignments  {"accounts": [{"accountId", "accountName",
                                  "emailAddress", "roles": ["Name", …]}]}
    POST /_peer/sso/expire       {} -> every access token has expired
    GET  /_peer/sso/log          [{"action", "status", "error", "grant_type", "time"}]
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

REDIRECT_NO_PORT = "http://127.0.0.1/oauth/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class SsoError(Exception):
    def __init__(self, status: int, shape: str, error: str, description: str):
        super().__init__(description)
        self.status, self.shape, self.error, self.description = status, shape, error, description


def oidc(status: int, shape: str, error: str, description: str) -> SsoError:
    return SsoError(status, shape, error, description)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SsoPeer:
    def __init__(self, issue_role: Callable[[str, str, int], dict[str, Any]]):
        # issue_role(account_id, role_name, seconds) -> roleCredentials
        self.issue_role = issue_role
        self.lock = threading.Lock()
        self.settings: dict[str, Any] = {
            "token_ttl": 3600, "client_ttl": 90 * 86400, "role_seconds": 3600,
            "device": "approve", "pending_polls": 1, "interval": 1, "browser": "approve",
            "refuse_refresh": False, "page_size": 2,
        }
        self.accounts: list[dict[str, Any]] = []
        self.clients: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.refresh: dict[str, dict[str, Any]] = {}
        self.log: list[dict[str, Any]] = []

    # -- control ------------------------------------------------------------

    def control(self, method: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            if (method, path) == ("POST", "/_peer/sso/settings"):
                unknown = set(data) - set(self.settings)
                if unknown:
                    return 400, {"error": f"unknown settings {sorted(unknown)}"}
                self.settings.update(data)
                return 200, dict(self.settings)
            if (method, path) == ("POST", "/_peer/sso/assignments"):
                self.accounts = list(data["accounts"])
                return 200, {"accounts": len(self.accounts)}
            if (method, path) == ("POST", "/_peer/sso/expire"):
                for t in self.tokens.values():
                    t["expires"] = time.time() - 1
                return 200, {"expired": len(self.tokens)}
            if (method, path) == ("GET", "/_peer/sso/log"):
                return 200, list(self.log)
        return 404, {"error": f"no control endpoint {method} {path}"}

    # -- HTTP ---------------------------------------------------------------

    ROUTES = {
        ("POST", "/client/register"): ("RegisterClient", "oidc"),
        ("POST", "/device_authorization"): ("StartDeviceAuthorization", "oidc"),
        ("POST", "/token"): ("CreateToken", "oidc"),
        ("GET", "/federation/credentials"): ("GetRoleCredentials", "portal"),
        ("GET", "/assignment/accounts"): ("ListAccounts", "portal"),
        ("GET", "/assignment/roles"): ("ListAccountRoles", "portal"),
        ("POST", "/logout"): ("Logout", "portal"),
    }

    def handles(self, method: str, path: str) -> bool:
        return (method, path) in self.ROUTES or (method, path) == ("GET", "/authorize")

    def handle(self, environ: dict[str, Any], body: bytes, start_response: Any) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        if (method, path) == ("GET", "/authorize"):
            return self.authorize(query, start_response)
        action, kind = self.ROUTES[(method, path)]
        entry: dict[str, Any] = {"action": action, "status": None, "error": None,
                                 "grant_type": None, "time": time.time()}
        try:
            if kind == "oidc":
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise oidc(400, "InvalidRequestException", "invalid_request", "body must be an object")
                entry["grant_type"] = data.get("grantType")
                answer = getattr(self, action)(data)
            else:
                token = environ.get("HTTP_X_AMZ_SSO_BEARER_TOKEN", "")
                answer = getattr(self, action)(self.bearer(token), query, token)
            status, headers, text = 200, [], json.dumps(answer)
        except SsoError as e:
            entry["error"] = e.shape
            status, headers = e.status, [("x-amzn-ErrorType", e.shape)]
            if kind == "oidc":
                text = json.dumps({"error": e.error, "error_description": e.description})
            else:
                text = json.dumps({"message": e.description})
        except (ValueError, KeyError, TypeError) as e:
            entry["error"] = "InvalidRequestException"
            status, headers = 400, [("x-amzn-ErrorType", "InvalidRequestException")]
            text = json.dumps({"error": "invalid_request", "error_description": f"bad request: {e}",
                               "message": f"bad request: {e}"})
        entry["status"] = status
        with self.lock:
            self.log.append(entry)
        return send(start_response, status, "application/json", text, headers)

    # -- OIDC -----------------------------------------------------------------

    def client(self, data: dict[str, Any]) -> dict[str, Any]:
        c = self.clients.get(data.get("clientId", ""))
        if c is None or c["secret"] != data.get("clientSecret"):
            raise oidc(401, "InvalidClientException", "invalid_client", "Invalid client provided")
        if c["expires"] < time.time():
            raise oidc(401, "InvalidClientException", "invalid_client", "Client registration has expired")
        return c

    def RegisterClient(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("clientType") != "public" or not data.get("clientName"):
            raise oidc(400, "InvalidRequestException", "invalid_request", "clientName and clientType public are required")
        grants = data.get("grantTypes") or []
        if "authorization_code" in grants:
            if data.get("redirectUris") != [REDIRECT_NO_PORT] or not data.get("issuerUrl"):
                raise oidc(400, "InvalidRedirectUriException", "invalid_redirect_uri",
                           "authorization_code clients need redirectUris [http://127.0.0.1/oauth/callback] and an issuerUrl")
        now = int(time.time())
        with self.lock:
            cid = "cid-" + secrets.token_urlsafe(12)
            self.clients[cid] = {
                "secret": "CSEC" + secrets.token_urlsafe(48), "grants": grants,
                "scopes": data.get("scopes") or [], "issuer": data.get("issuerUrl"),
                "expires": now + int(self.settings["client_ttl"]),
            }
            c = self.clients[cid]
        return {"clientId": cid, "clientSecret": c["secret"], "clientIdIssuedAt": now,
                "clientSecretExpiresAt": c["expires"]}

    def StartDeviceAuthorization(self, data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.client(data)
            if not data.get("startUrl"):
                raise oidc(400, "InvalidRequestException", "invalid_request", "startUrl is required")
            code = secrets.token_urlsafe(24)
            user_code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
            self.devices[code] = {"client_id": data["clientId"], "polls": 0, "last": 0.0,
                                  "expires": time.time() + 600, "interval": int(self.settings["interval"])}
            interval = self.devices[code]["interval"]
        uri = "http://127.0.0.1/start/#/device"
        return {"deviceCode": code, "userCode": user_code, "verificationUri": uri,
                "verificationUriComplete": f"{uri}?user_code={user_code}", "expiresIn": 600,
                "interval": interval}

    def authorize(self, q: dict[str, str], start_response: Any) -> list[bytes]:
        problems = []
        with self.lock:
            c = self.clients.get(q.get("client_id", ""))
        redirect = q.get("redirect_uri", "")
        if c is None or "authorization_code" not in c["grants"]:
            problems.append("client_id is not a client registered for authorization_code")
        if q.get("response_type") != "code":
            problems.append("response_type must be code")
        if q.get("code_challenge_method") != "S256":
            problems.append("code_challenge_method must be S256")
        challenge = q.get("code_challenge", "")
        if len(challenge) != 43 or "=" in challenge:
            problems.append("code_challenge must be 43 characters of unpadded base64url")
        host, _, rest = redirect.removeprefix("http://").partition("/")
        if not (redirect.startswith("http://127.0.0.1:") and host.split(":")[1].isdigit()
                and "/" + rest == "/oauth/callback"):
            problems.append("redirect_uri must be http://127.0.0.1:PORT/oauth/callback")
        scopes = q.get("scopes", "").split(" ")
        if c is not None and sorted(scopes) != sorted(c["scopes"]):
            problems.append("scopes must be the registered scopes, space-separated")
        if not q.get("state"):
            problems.append("state is required")
        if problems:
            return send(start_response, 400, "text/plain", "; ".join(problems) + "\n")
        state = q["state"]
        if self.settings["browser"] == "deny":
            params = {"error": "access_denied", "state": state}
        else:
            code = secrets.token_urlsafe(24)
            with self.lock:
                self.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                                    "challenge": challenge, "used": False, "expires": time.time() + 300}
            params = {"code": code, "state": state}
        location = redirect + "?" + urlencode(params, quote_via=quote)
        return send(start_response, 302, "text/plain", "redirecting\n", [("Location", location)])

    def CreateToken(self, data: dict[str, Any]) -> dict[str, Any]:
        grant = data.get("grantType")
        with self.lock:
            c = self.client(data)
            cid = data["clientId"]
            if grant == DEVICE_GRANT:
                self.device_grant(data, cid)
            elif grant == "authorization_code":
                code = self.codes.get(data.get("code", ""))
                if code is None or code["used"] or code["expires"] < time.time():
                    raise oidc(400, "InvalidGrantException", "invalid_grant", "Invalid authorization code")
                code["used"] = True
                if code["client_id"] != cid or code["redirect_uri"] != data.get("redirectUri"):
                    raise oidc(400, "InvalidGrantException", "invalid_grant", "clientId or redirectUri differ from /authorize")
                digest = b64url(hashlib.sha256(data.get("codeVerifier", "").encode()).digest())
                if digest != code["challenge"]:
                    raise oidc(400, "InvalidGrantException", "invalid_grant", "codeVerifier does not match code_challenge")
            elif grant == "refresh_token":
                r = self.refresh.pop(data.get("refreshToken", ""), None)
                if r is None or r["client_id"] != cid:
                    raise oidc(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided")
                if self.settings["refuse_refresh"]:
                    raise oidc(400, "InvalidGrantException", "invalid_grant", "Refresh token has expired")
            else:
                raise oidc(400, "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type")
            return self.issue(cid, c)

    def device_grant(self, data: dict[str, Any], cid: str) -> None:
        d = self.devices.get(data.get("deviceCode", ""))
        if d is None or d["client_id"] != cid:
            raise oidc(400, "InvalidGrantException", "invalid_grant", "Invalid device code provided")
        now = time.time()
        too_soon = now - d["last"] < d["interval"] - 0.2
        d["last"], d["polls"] = now, d["polls"] + 1
        mode = self.settings["device"]
        if mode == "expire" or d["expires"] < now:
            raise oidc(400, "ExpiredTokenException", "expired_token", "Device code has expired")
        if too_soon:
            d["interval"] += 5
            raise oidc(400, "SlowDownException", "slow_down", "Client is polling too fast")
        if d["polls"] <= int(self.settings["pending_polls"]):
            raise oidc(400, "AuthorizationPendingException", "authorization_pending", "Authorization is still pending")
        if mode == "deny":
            raise oidc(400, "AccessDeniedException", "access_denied", "The user denied the authorization")
        del self.devices[data["deviceCode"]]

    def issue(self, cid: str, c: dict[str, Any]) -> dict[str, Any]:
        token = "AT" + secrets.token_urlsafe(64)
        ttl = int(self.settings["token_ttl"])
        self.tokens[token] = {"client_id": cid, "expires": time.time() + ttl}
        answer = {"accessToken": token, "tokenType": "Bearer", "expiresIn": ttl}
        if "refresh_token" in c["grants"] or c["scopes"]:
            rt = "RT" + secrets.token_urlsafe(64)
            self.refresh[rt] = {"client_id": cid, "access": token}
            answer["refreshToken"] = rt
        return answer

    # -- portal -------------------------------------------------------------

    def bearer(self, token: str) -> dict[str, Any]:
        with self.lock:
            t = self.tokens.get(token)
        if t is None or t["expires"] < time.time():
            raise SsoError(401, "UnauthorizedException", "", "Session token not found or invalid")
        return t

    def account(self, account_id: str) -> dict[str, Any]:
        for a in self.accounts:
            if a["accountId"] == account_id:
                return a
        raise SsoError(403, "ForbiddenException", "", "No access")

    def page(self, items: list[Any], q: dict[str, str], key: str) -> dict[str, Any]:
        size = int(self.settings["page_size"])
        start = int(q.get("next_token") or 0)
        answer: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            answer["nextToken"] = str(start + size)
        return answer

    def GetRoleCredentials(self, _t: dict[str, Any], q: dict[str, str], _tok: str) -> dict[str, Any]:
        a = self.account(q.get("account_id", ""))
        role = q.get("role_name", "")
        if role not in a.get("roles", []):
            raise SsoError(403, "ForbiddenException", "", "No access")
        return {"roleCredentials": self.issue_role(a["accountId"], role, int(self.settings["role_seconds"]))}

    def ListAccounts(self, _t: dict[str, Any], q: dict[str, str], _tok: str) -> dict[str, Any]:
        items = [{k: a[k] for k in ("accountId", "accountName", "emailAddress")} for a in self.accounts]
        return self.page(items, q, "accountList")

    def ListAccountRoles(self, _t: dict[str, Any], q: dict[str, str], _tok: str) -> dict[str, Any]:
        a = self.account(q.get("account_id", ""))
        items = [{"roleName": r, "accountId": a["accountId"]} for r in a.get("roles", [])]
        return self.page(items, q, "roleList")

    def Logout(self, _t: dict[str, Any], _q: dict[str, str], token: str) -> dict[str, Any]:
        with self.lock:
            self.tokens.pop(token, None)
            for rt in [k for k, v in self.refresh.items() if v["access"] == token]:
                del self.refresh[rt]
        return {}


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
