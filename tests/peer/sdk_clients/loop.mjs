// A long-running client of the AWS SDK for JavaScript v3 for tests/it/server.rs: its
// default credential chain, one STS client, GetCallerIdentity every EVERY seconds for
// SECS seconds, each ARN on its own line. Exits 1 with the SDK's error on stderr.
//
//   node loop.mjs SECS EVERY
//
// The SDK comes from $AWS_SESSION_TEST_NODE (else <repo>/.node), where
// scripts/setup-peers installs it; the endpoint is AWS_ENDPOINT_URL.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const nodeDir = process.env.AWS_SESSION_TEST_NODE || path.join(repo, ".node");
const require = createRequire(path.join(nodeDir, "package.json"));
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

const [secs, every] = process.argv.slice(2).map(Number);
const client = new STSClient({});
const end = Date.now() + secs * 1000;
try {
  while (Date.now() < end) {
    const identity = await client.send(new GetCallerIdentityCommand({}));
    console.log(identity.Arn);
    await new Promise((resolve) => setTimeout(resolve, every * 1000));
  }
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
