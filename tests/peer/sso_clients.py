"""boto3's own sso-oidc and sso clients against the IAM Identity Center peer: every
call of both service models, so the peer is known to speak the protocol botocore
speaks. Run by tests/it/sso.rs with AWS_ENDPOINT_URL at the peer; prints "ok".

argv: the account id and role name assigned by the test (the role exists in the IAM peer).
"""

import sys
import time

import boto3
import botocore
from botocore.config import Config

account, role = sys.argv[1], sys.argv[2]
config = Config(signature_version=botocore.UNSIGNED, region_name="us-east-1")
oidc = boto3.client("sso-oidc", config=config)
portal = boto3.client("sso", config=config)

# The device-code flow, as the AWS CLI drives it.
reg = oidc.register_client(clientName="botocore-client-check", clientType="public",
                           scopes=["sso:account:access"])
auth = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                       startUrl="https://d-check.awsapps.com/start")
assert auth["interval"] >= 1 and auth["userCode"] and auth["verificationUriComplete"]
grant = dict(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
             grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=auth["deviceCode"])
try:
    oidc.create_token(**grant)
    raise SystemExit("the first poll must be pending")
except oidc.exceptions.AuthorizationPendingException:
    pass
try:
    oidc.create_token(**grant)
    raise SystemExit("a poll faster than the interval must be slowed down")
except oidc.exceptions.SlowDownException:
    pass
time.sleep(auth["interval"] + 5.3)
token = oidc.create_token(**grant)
assert token["expiresIn"] > 0 and token["refreshToken"], token

# Refresh: the refresh token rotates, the old one is spent.
refreshed = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                              grantType="refresh_token", refreshToken=token["refreshToken"])
assert refreshed["refreshToken"] != token["refreshToken"]
try:
    oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                      grantType="refresh_token", refreshToken=token["refreshToken"])
    raise SystemExit("a spent refresh token must be refused")
except oidc.exceptions.InvalidGrantException:
    pass
try:
    oidc.create_token(clientId=reg["clientId"], clientSecret="wrong", grantType="refresh_token",
                      refreshToken=refreshed["refreshToken"])
    raise SystemExit("a wrong client secret must be refused")
except oidc.exceptions.InvalidClientException as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 401

access = refreshed["accessToken"]
accounts = [a for page in portal.get_paginator("list_accounts").paginate(accessToken=access)
            for a in page["accountList"]]
assert len(accounts) >= 3, accounts
roles = [r["roleName"] for page in portal.get_paginator("list_account_roles").paginate(
    accessToken=access, accountId=account) for r in page["roleList"]]
assert role in roles and len(roles) >= 3, roles
creds = portal.get_role_credentials(accessToken=access, accountId=account, roleName=role)["roleCredentials"]
assert creds["expiration"] > time.time() * 1000
sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=creds["accessKeyId"],
                   aws_secret_access_key=creds["secretAccessKey"], aws_session_token=creds["sessionToken"])
arn = sts.get_caller_identity()["Arn"]
assert f":assumed-role/{role}/" in arn, arn
try:
    portal.get_role_credentials(accessToken=access, accountId=account, roleName="NotMine")
    raise SystemExit("a role not assigned must be refused")
except portal.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ForbiddenException", e.response
portal.logout(accessToken=access)
try:
    portal.list_accounts(accessToken=access)
    raise SystemExit("a token logged out must be refused")
except portal.exceptions.UnauthorizedException:
    pass
print("ok")
