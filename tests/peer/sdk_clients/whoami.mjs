// A real client of the AWS SDK for JavaScript v3 for tests/sdk_interop.rs: calls
// STS GetCallerIdentity and prints one line of JSON,
//   {"arn", "access_key_id", "has_session_token", "mode"},
// the ARN AWS answered and the credentials the SDK resolved for the call.
//
//   node whoami.mjs default          the client's own default chain (no credentials option)
//   node whoami.mjs chain            fromNodeProviderChain()
//   node whoami.mjs process [NAME]   fromProcess({ profile: NAME }) (NAME absent: the
//                                    SDK's choice, AWS_PROFILE or "default")
//   node whoami.mjs sso NAME         fromSSO({ profile: NAME }): the IAM Identity Center
//                                    token in ~/.aws/sso/cache, GetRoleCredentials
//
// The endpoint is the SDK's own choice too: AWS_ENDPOINT_URL, as the tests set it.
// The SDK comes from $AWS_SESSION_TEST_NODE (else <repo>/.node), where
// scripts/setup-peers installs it. Exits 1 with the SDK's error on stderr.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const nodeDir = process.env.AWS_SESSION_TEST_NODE || path.join(repo, ".node");
const require = createRequire(path.join(nodeDir, "package.json"));
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const { fromProcess, fromNodeProviderChain, fromSSO } = require("@aws-sdk/credential-providers");

const [mode = "default", profile] = process.argv.slice(2);
const options = {};
if (mode === "chain") {
  options.credentials = fromNodeProviderChain();
} else if (mode === "process") {
  options.credentials = fromProcess(profile ? { profile } : {});
} else if (mode === "sso") {
  options.credentials = fromSSO({ profile });
} else if (mode !== "default") {
  console.error(`whoami.mjs: unknown mode ${mode} (default, chain, process, sso)`);
  process.exit(2);
}

try {
  const client = new STSClient(options);
  const identity = await client.send(new GetCallerIdentityCommand({}));
  const credentials = await client.config.credentials();
  console.log(
    JSON.stringify({
      arn: identity.Arn,
      access_key_id: credentials.accessKeyId,
      has_session_token: Boolean(credentials.sessionToken),
      mode,
    }),
  );
} catch (error) {
  console.error(`whoami.mjs (${mode}): ${error.name}: ${error.message}`);
  process.exit(1);
}
