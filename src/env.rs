//! The process environment as data: a snapshot taken once in `main`, and the two small
//! rules every reader of it shares (empty means unset; what counts as "on").

use std::collections::BTreeMap;

/// A snapshot of the process environment (only UTF-8 entries), passed around as data.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Snapshot of the current process environment.
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of the given pairs (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A variable's value; empty values count as unset (as the AWS CLI does).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where a setting came from. Only settings given on the command line are passed on to
/// a child as its defaults; one from the environment is already in the child's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
}

/// True for "1", "true", "yes", "on" (and any positive number: a shell's `-gt 0` test).
///
/// ```
/// assert!(aws_session::env::truthy("yes") && !aws_session::env::truthy("0"));
/// ```
pub fn truthy(v: &str) -> bool {
    let v = v.trim();
    v.parse::<i64>().map(|n| n > 0).unwrap_or(false)
        || ["true", "yes", "on"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthy_values() {
        assert!(truthy("1") && truthy("true") && truthy("2"));
        assert!(!truthy("0") && !truthy("") && !truthy("no"));
    }
}
