//! The process environment as data: a snapshot taken once in `main`, and the two small
//! rules every reader of it shares (empty means unset; the one spelling of a boolean).

use crate::error::{Error, Result};
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

    /// A boolean variable (see [`parse_bool`]): `None` when unset or empty.
    pub fn flag(&self, key: &str) -> Result<Option<bool>> {
        self.get(key).map_or(Ok(None), |v| parse_bool(key, v))
    }
}

/// Where a setting came from. Only settings given on the command line are passed on to
/// a child as its defaults; one from the environment is already in the child's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
}

/// The one reading of every boolean variable (AWS_SESSION_CACHE, AWS_SESSION_DEBUG,
/// AWS_SESSION_COLOR(S), AWS_SESSION_PROMPT): `1`/`0`, `true`/`false`, `yes`/`no`,
/// `on`/`off` in any case, surrounding blanks ignored; empty is unset (`None`);
/// anything else is a usage error naming the variable.
///
/// ```
/// use aws_session::env::parse_bool;
/// assert_eq!(parse_bool("X", " Yes ").unwrap(), Some(true));
/// assert_eq!(parse_bool("X", "OFF").unwrap(), Some(false));
/// assert_eq!(parse_bool("X", "").unwrap(), None);
/// assert!(parse_bool("X", "2").unwrap_err().to_string().starts_with("X must be"));
/// ```
pub fn parse_bool(name: &str, v: &str) -> Result<Option<bool>> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let is = |words: [&str; 4]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if is(["1", "true", "yes", "on"]) {
        Ok(Some(true))
    } else if is(["0", "false", "no", "off"]) {
        Ok(Some(false))
    } else {
        Err(Error::Usage(format!(
            "{name} must be 1/0, true/false, yes/no or on/off, got \"{}\"",
            t.chars().take(20).collect::<String>().escape_debug()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_and_nothing_else() {
        for v in ["1", "true", "TRUE", "Yes", "on", " On "] {
            assert_eq!(parse_bool("V", v).unwrap(), Some(true), "{v}");
        }
        for v in ["0", "false", "No", "OFF"] {
            assert_eq!(parse_bool("V", v).unwrap(), Some(false), "{v}");
        }
        for v in ["maybe", "2", "-1", "yes please", "enabled", "00", "y"] {
            let e = parse_bool("AWS_SESSION_CACHE", v).unwrap_err();
            assert_eq!(e.exit_code(), 1);
            assert!(e.to_string().contains("AWS_SESSION_CACHE"), "{e}");
        }
        assert_eq!(parse_bool("V", "  ").unwrap(), None);
    }
}
