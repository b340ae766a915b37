//! The AWS SDKs' profile-parser conformance suite (smithy-lang/smithy-rs, Apache-2.0),
//! run against `aws_session::config`. One trial per case. The suite is kept in
//! `fixtures/conformance/profile/` (see the NOTICE there); if it is missing this test
//! binary fails.

use aws_session::config::{merge, parse, FileKind, Profile, ProfileSet};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Map, Value};
use std::collections::HashMap;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/conformance/profile/profile-parser-tests.json"
);

fn main() {
    let args = Arguments::from_args();
    let text = std::fs::read_to_string(SUITE).unwrap_or_else(|e| {
        panic!("cannot read the profile-parser conformance suite at {SUITE}: {e} (restore fixtures/conformance from git)")
    });
    let suite: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SUITE} is not valid JSON: {e}"));
    let cases = suite
        .get("tests")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{SUITE} has no \"tests\" array"));
    assert!(
        cases.len() >= 50,
        "{SUITE} has only {} cases; expected at least 50",
        cases.len()
    );

    let mut seen: HashMap<String, usize> = HashMap::new();
    let trials = cases
        .iter()
        .enumerate()
        .map(|(idx, case)| {
            let base = case
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("case {idx}"), str::to_string);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            let name = if *count == 1 {
                base
            } else {
                format!("{base} ({count})")
            };
            let case = case.clone();
            Trial::test(name, move || run_case(&case))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_case(case: &Value) -> Result<(), Failed> {
    let input = case.get("input").ok_or("case has no input")?;
    let output = case.get("output").ok_or("case has no output")?;
    let text_of = |field: &str| input.get(field).and_then(Value::as_str);

    let result = (|| {
        let config = text_of("configFile")
            .map(|t| parse(t, FileKind::Config, "config"))
            .transpose()?;
        let credentials = text_of("credentialsFile")
            .map(|t| parse(t, FileKind::Credentials, "credentials"))
            .transpose()?;
        Ok::<_, aws_session::config::ConfigError>(merge(config, credentials))
    })();

    if let Some(phrase) = output.get("errorContaining").and_then(Value::as_str) {
        return match result {
            Err(e) if e.to_string().contains(phrase) => Ok(()),
            Err(e) => Err(format!("error {:?} does not contain {phrase:?}", e.to_string()).into()),
            Ok(set) => Err(format!(
                "expected an error containing {phrase:?}, got {}",
                to_json(&set, &Value::Null)
            )
            .into()),
        };
    }

    let expected = output
        .get("config")
        .ok_or("output has neither config nor errorContaining")?;
    let set = result.map_err(|e| format!("unexpected error: {e}"))?;
    let actual = to_json(&set, expected);
    // A case that does not mention sso-sessions expects none.
    let mut expected = expected.clone();
    if let Some(obj) = expected.as_object_mut() {
        obj.entry("sso_sessions")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if actual == expected {
        Ok(())
    } else {
        Err(format!("\n  expected: {expected}\n  actual:   {actual}\n  input:    {input}").into())
    }
}

/// The suite's shape: `{"profiles": {name: {key: value}}, "sso_sessions": {...}}`. A
/// property whose expected value is an object is compared as its sub-properties.
fn to_json(set: &ProfileSet, expected: &Value) -> Value {
    let mut root = Map::new();
    let profiles = set.names().into_iter().filter_map(|n| set.get(n));
    root.insert("profiles".into(), sections(profiles, "profiles", expected));
    let sso = set
        .sso_session_names()
        .into_iter()
        .filter_map(|n| set.sso_session(n));
    root.insert(
        "sso_sessions".into(),
        sections(sso, "sso_sessions", expected),
    );
    Value::Object(root)
}

fn sections<'a>(
    sections: impl Iterator<Item = &'a Profile>,
    group: &str,
    expected: &Value,
) -> Value {
    let mut out = Map::new();
    for section in sections {
        let mut props = Map::new();
        for (key, value) in section.properties() {
            let pointer = format!("/{group}/{}/{}", escape(section.name()), escape(key));
            let v = if expected.pointer(&pointer).is_some_and(Value::is_object) {
                Value::Object(
                    section
                        .sub_properties(key)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                        .collect(),
                )
            } else {
                Value::String(value.to_string())
            };
            props.insert(key.to_string(), v);
        }
        out.insert(section.name().to_string(), Value::Object(props));
    }
    Value::Object(out)
}

/// JSON-pointer escaping of one path segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
