//! Values and variable changes quoted for the shells that `eval` or `source` them.

use super::EnvChanges;

/// Quote a value for POSIX shells: `'…'` with embedded quotes as `'\''`.
///
/// ```
/// assert_eq!(aws_session::shell::quote::sh_quote("a'b"), r#"'a'\''b'"#);
/// ```
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r#"'\''"#))
}

/// `export`/`unset` lines for bash/zsh/sh `eval`.
pub fn export_lines(changes: &EnvChanges) -> String {
    let mut out = String::new();
    for (k, v) in changes {
        match v {
            Some(v) => out.push_str(&format!("export {k}={}\n", sh_quote(v))),
            None => out.push_str(&format!("unset {k}\n")),
        }
    }
    out
}

/// Quote a value for fish: `'…'` where only `\\` and `\'` are escapes.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `set -gx`/`set -e` lines for fish's `source`.
pub fn fish_lines(changes: &EnvChanges) -> String {
    let mut out = String::new();
    for (k, v) in changes {
        match v {
            Some(v) => out.push_str(&format!("set -gx {k} {}\n", fish_quote(v))),
            // `set -e` of an unset variable returns 4: erase only what is set, so the
            // sourced script ends with status 0.
            None => out.push_str(&format!("set -q {k}; and set -e {k}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_quote_and_unset() {
        let ch: EnvChanges = vec![("A", Some("it's".into())), ("B", None)];
        assert_eq!(export_lines(&ch), "export A='it'\\''s'\nunset B\n");
        assert_eq!(
            fish_lines(&ch),
            "set -gx A 'it\\'s'\nset -q B; and set -e B\n"
        );
    }
}
