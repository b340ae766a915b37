//! The AWS SDKs' assume-role profile-chain conformance suite (smithy-lang/smithy-rs,
//! Apache-2.0), run against `aws_session::session::roles::resolve`. One trial per case.
//!
//! The suite is kept in `fixtures/conformance/profile/` (see the NOTICE there); if it
//! is missing this test binary fails.
//!
//! Cases about ways of getting credentials that aws-session does not implement are
//! listed in [`OUT_OF_SCOPE`] with the reason. They are not skipped: their trial
//! checks that the resolver refuses the profile with a "not supported" error that
//! names the feature.

use aws_session::config::{merge, parse, FileKind};
use aws_session::session::roles::{resolve, Base, Plan, RoleError};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/conformance/profile/assume-role-tests.json"
);

/// Why a group of cases is out of scope (the README lists these).
const WHY_INSTANCE: &str = "instance and container credentials (credential_source = Ec2InstanceMetadata / EcsContainer) are for code running on AWS, not for a person with long-term keys and an MFA device";
const WHY_WEB_IDENTITY: &str = "web identity (web_identity_token_file, AssumeRoleWithWebIdentity) is for CI and Kubernetes workloads with an OIDC token, not for MFA sessions";

/// Suite cases (by their `docs`) outside aws-session's scope: the group, why, and a
/// word the "not supported" error must contain.
const OUT_OF_SCOPE: &[(&str, &str, &str, &str)] = &[
    (
        "Load credentials from a credential_source",
        "instance metadata",
        WHY_INSTANCE,
        "Ec2InstanceMetadata",
    ),
    (
        "web identity role",
        "web identity",
        WHY_WEB_IDENTITY,
        "web identity",
    ),
    (
        "web identity role with session name",
        "web identity",
        WHY_WEB_IDENTITY,
        "web identity",
    ),
    (
        "web identity token as source profile",
        "web identity",
        WHY_WEB_IDENTITY,
        "web identity",
    ),
];

fn main() {
    let args = Arguments::from_args();
    let text = std::fs::read_to_string(SUITE).unwrap_or_else(|e| {
        panic!("cannot read the assume-role conformance suite at {SUITE}: {e} (restore fixtures/conformance from git)")
    });
    let suite: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SUITE} is not valid JSON: {e}"));
    let cases = suite
        .as_array()
        .unwrap_or_else(|| panic!("{SUITE} is not a JSON list of cases"));
    assert!(
        cases.len() >= 25,
        "{SUITE} has only {} cases; expected at least 25",
        cases.len()
    );
    // The list must not go stale: every out-of-scope entry names a case of the suite.
    for (docs, _, _, _) in OUT_OF_SCOPE {
        assert!(
            cases.iter().any(|c| c["docs"].as_str() == Some(docs)),
            "OUT_OF_SCOPE names {docs:?}, which is not a case of {SUITE}"
        );
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let trials = cases
        .iter()
        .enumerate()
        .map(|(idx, case)| {
            let docs = case["docs"]
                .as_str()
                .map_or_else(|| format!("case {idx}"), str::to_string);
            let count = seen.entry(docs.clone()).or_insert(0);
            *count += 1;
            let base = if *count == 1 {
                docs.clone()
            } else {
                format!("{docs} ({count})")
            };
            let case = case.clone();
            match OUT_OF_SCOPE.iter().find(|(d, _, _, _)| *d == docs) {
                Some(&(_, group, why, word)) => {
                    Trial::test(format!("out of scope ({group}): {base}"), move || {
                        run_out_of_scope(&case, why, word)
                    })
                }
                None => Trial::test(base, move || run_case(&case)),
            }
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Resolve the case's input with aws_session.
fn resolve_input(input: &Value) -> Result<Result<Plan, RoleError>, Failed> {
    let mut config = String::new();
    let empty = Map::new();
    for (name, props) in input["profiles"].as_object().unwrap_or(&empty) {
        config.push_str(&format!("[profile {name}]\n"));
        for (k, v) in props.as_object().ok_or("a profile is not an object")? {
            config.push_str(&format!(
                "{k} = {}\n",
                v.as_str().ok_or("a value is not a string")?
            ));
        }
    }
    for (name, props) in input["sso_sessions"].as_object().unwrap_or(&empty) {
        config.push_str(&format!("[sso-session {name}]\n"));
        for (k, v) in props.as_object().ok_or("an sso-session is not an object")? {
            config.push_str(&format!(
                "{k} = {}\n",
                v.as_str().ok_or("a value is not a string")?
            ));
        }
    }
    let parsed = parse(&config, FileKind::Config, "config")
        .map_err(|e| format!("the generated config does not parse: {e}\n{config}"))?;
    let set = merge(Some(parsed), None);
    let selected = input["selected_profile"]
        .as_str()
        .ok_or("no selected_profile")?;
    Ok(resolve(&set, selected))
}

/// The suite's shape of a plan: `{"ProfileChain": [base, {"AssumeRole": {...}}, ...]}`.
fn to_json(plan: &Plan) -> Value {
    let mut chain = Vec::new();
    match &plan.base {
        Base::Keys {
            credentials,
            account_id,
            ..
        } => {
            let mut keys = Map::new();
            keys.insert("access_key_id".into(), json!(credentials.access_key_id));
            keys.insert(
                "secret_access_key".into(),
                json!(credentials.secret_access_key),
            );
            if let Some(t) = &credentials.session_token {
                keys.insert("session_token".into(), json!(t));
            }
            if let Some(a) = account_id {
                keys.insert("account_id".into(), json!(a));
            }
            chain.push(json!({ "AccessKey": keys }));
        }
        Base::Environment { .. } => chain.push(json!({ "NamedSource": "Environment" })),
        Base::Process { command, .. } => chain.push(json!({ "CredentialProcess": command })),
        Base::Login { session, .. } => chain.push(json!({ "LoginSession": session })),
        Base::Sso(sso) => {
            let mut m = Map::new();
            m.insert("sso_start_url".into(), json!(sso.start_url));
            m.insert("sso_region".into(), json!(sso.region));
            let optional = [
                ("sso_session", &sso.session_name),
                ("sso_account_id", &sso.account_id),
                ("sso_role_name", &sso.role_name),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            chain.push(json!({ "Sso": m }));
        }
    }
    for step in &plan.steps {
        let mut role = Map::new();
        role.insert("role_arn".into(), json!(step.role_arn));
        if let Some(n) = &step.role_session_name {
            role.insert("role_session_name".into(), json!(n));
        }
        if let Some(e) = &step.external_id {
            role.insert("external_id".into(), json!(e));
        }
        chain.push(json!({ "AssumeRole": role }));
    }
    json!({ "ProfileChain": chain })
}

fn run_case(case: &Value) -> Result<(), Failed> {
    let result = resolve_input(&case["input"])?;
    let output = &case["output"];
    if let Some(phrase) = output["Error"].as_str() {
        return match result {
            Err(RoleError::Invalid(m)) if m.contains(phrase) => Ok(()),
            Err(e) => Err(format!("error {:?} does not contain {phrase:?}", e.to_string()).into()),
            Ok(plan) => Err(format!(
                "expected an error containing {phrase:?}, got {}",
                to_json(&plan)
            )
            .into()),
        };
    }
    let plan = result.map_err(|e| format!("unexpected error: {e}"))?;
    let actual = to_json(&plan);
    if &actual == output {
        Ok(())
    } else {
        Err(format!(
            "\n  expected: {output}\n  actual:   {actual}\n  input:    {}",
            case["input"]
        )
        .into())
    }
}

/// An out-of-scope case passes when aws-session refuses it clearly: a "not supported"
/// error naming the feature.
fn run_out_of_scope(case: &Value, why: &str, word: &str) -> Result<(), Failed> {
    match resolve_input(&case["input"])? {
        Err(e @ RoleError::Unsupported { .. }) => {
            let m = e.to_string();
            if m.contains(word) && m.contains("not support") {
                Ok(())
            } else {
                Err(format!(
                    "the not-supported error {m:?} does not name {word:?} (out of scope: {why})"
                )
                .into())
            }
        }
        Err(e) => {
            Err(format!("expected a not-supported error (out of scope: {why}), got {e:?}").into())
        }
        Ok(plan) => Err(format!(
            "expected a not-supported error (out of scope: {why}), got a plan: {}",
            to_json(&plan)
        )
        .into()),
    }
}
