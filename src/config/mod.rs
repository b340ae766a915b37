//! The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`)
//! read into plain data, following the AWS SDKs' profile-file rules (the
//! profile-parser conformance suite in `fixtures/conformance/profile` is the judge).
//!
//! Pure: every function takes text (and a path used only in messages) and returns
//! values. Reading the files, the environment and the home directory is the caller's job.
//!
//! The rules, in short:
//! - `[profile name]` in the config file, `[name]` in the credentials file; `[default]`
//!   in both. In the config file `[profile default]` wins: when it is present, `[default]`
//!   sections of that file are ignored. `[sso-session name]` sections (config only) are
//!   kept apart from profiles. Sections with an invalid name, an unprefixed name in the
//!   config file or a `profile` prefix in the credentials file are ignored (with a warning).
//! - `key = value`; keys are case-insensitive (stored lowercase), keys and values are
//!   trimmed, values may contain `=`. Keys with characters outside
//!   `A-Z a-z 0-9 - _ / . % @ : +` are ignored (with a warning).
//! - Comments: a line starting with `#` or `;`; after a section header, `#`/`;` anywhere;
//!   after a value, `#`/`;` only when preceded by whitespace (`value#1` keeps the `#1`).
//! - An indented line continues the value above it (joined with `\n`); under a property
//!   with an empty value the indented lines are sub-properties and must be `key = value`.
//! - Duplicate sections merge, the last definition of a property wins; the credentials
//!   file wins over the config file.
//!
//! Two choices beyond the suite (which is silent on them): an indented line whose first
//! non-blank character is `#` or `;` is a comment, as in the AWS CLI (the SDKs would glue
//! it to the value above); and a UTF-8 byte order mark at the start of a file is skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

mod edit;
pub mod files;
mod parse;

pub use edit::set_property;
pub use parse::parse;

/// Characters the profile-file rules treat as whitespace (not Unicode whitespace).
const WHITESPACE: &[char] = &[' ', '\t'];
/// Characters that start a comment.
const COMMENT: &[char] = &['#', ';'];
/// Characters allowed in profile names and property keys, besides ASCII letters and digits.
const IDENTIFIER_EXTRA: &[char] = &['_', '-', '/', '.', '%', '@', ':', '+'];
const UTF8_BOM: char = '\u{feff}';

/// Which of the two AWS files a text comes from; the section-header rules differ.
///
/// ```
/// use aws_session::config::FileKind;
/// assert_ne!(FileKind::Config, FileKind::Credentials);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/config`: `[default]`, `[profile name]`, `[sso-session name]`.
    Config,
    /// `~/.aws/credentials`: `[default]`, `[name]`.
    Credentials,
}

/// A config or credentials file that cannot be read as the AWS rules define it.
///
/// Displays as `<path> line <n>: <what is wrong> (<how to fix>)`. Never quotes the
/// offending line: credentials files hold secrets.
///
/// ```
/// use aws_session::config::{parse, FileKind};
/// let err = parse("[profile dev\nregion = eu-west-1\n", FileKind::Config, "~/.aws/config")
///     .unwrap_err();
/// assert_eq!(err.line, 1);
/// assert!(err.to_string().starts_with("~/.aws/config line 1: Profile definition must end with ']'"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as given by the caller.
    pub path: String,
    /// 1-based line number; 0 when the error is not about a line (bad edit arguments).
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {} ({})", self.path, self.message, self.hint)
        } else {
            write!(
                f,
                "{} line {}: {} ({})",
                self.path, self.line, self.message, self.hint
            )
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for crate::error::Error {
    fn from(e: ConfigError) -> Self {
        crate::error::Error::Config(e.to_string())
    }
}

/// One profile (or sso-session): its name and its properties.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let text = "[profile dev]\nRegion = eu-west-1\n";
/// let set = merge(Some(parse(text, FileKind::Config, "config")?), None);
/// let dev = set.get("dev").unwrap();
/// assert_eq!(dev.name(), "dev");
/// assert_eq!(dev.get("region"), Some("eu-west-1"));
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    name: String,
    /// Lowercase key → value (multi-line values joined with `\n`).
    properties: BTreeMap<String, String>,
}

impl Profile {
    fn new(name: &str) -> Self {
        Profile {
            name: name.to_string(),
            properties: BTreeMap::new(),
        }
    }

    /// The profile's name, without any `profile ` prefix.
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let set = merge(Some(parse("[profile a]", FileKind::Config, "c")?), None);
    /// assert_eq!(set.get("a").map(|p| p.name()), Some("a"));
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of a property; `key` is matched case-insensitively.
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let text = "[default]\nmfa_serial = arn:aws:iam::123456789012:mfa/me # my phone\n";
    /// let set = merge(Some(parse(text, FileKind::Config, "c")?), None);
    /// let p = set.get("default").unwrap();
    /// assert_eq!(p.get("MFA_SERIAL"), Some("arn:aws:iam::123456789012:mfa/me"));
    /// assert_eq!(p.get("region"), None);
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// All sub-properties of `key`, in file order (empty when it has none).
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let text = "[profile a]\ns3 =\n  a = 1\n  b = 2\n";
    /// let set = merge(Some(parse(text, FileKind::Config, "c")?), None);
    /// assert_eq!(set.get("a").unwrap().sub_properties("s3"), vec![("a", "1"), ("b", "2")]);
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn sub_properties(&self, key: &str) -> Vec<(&str, &str)> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        value
            .split('\n')
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim_matches(WHITESPACE), v.trim_matches(WHITESPACE)))
            .collect()
    }

    /// All properties as (lowercase key, value), sorted by key.
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let set = merge(Some(parse("[default]\nb = 2\na = 1", FileKind::Config, "c")?), None);
    /// let props: Vec<_> = set.get("default").unwrap().properties().collect();
    /// assert_eq!(props, vec![("a", "1"), ("b", "2")]);
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// One file's profiles and sso-sessions, after the AWS rules (prefixes, `[profile
/// default]` precedence, invalid names dropped). Combine files with [`merge`].
///
/// ```
/// use aws_session::config::{parse, FileKind};
/// let parsed = parse("[dev]\nregion = x\n", FileKind::Config, "~/.aws/config")?;
/// // `[dev]` needs the `profile` prefix in the config file: ignored, with a warning.
/// assert_eq!(parsed.warnings().len(), 1);
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    profiles: BTreeMap<String, Profile>,
    sso_sessions: BTreeMap<String, Profile>,
    warnings: Vec<String>,
}

impl ParsedFile {
    /// Sections and properties that were ignored, one sentence each
    /// (`<path> line <n>: ...`), for `--debug` output.
    ///
    /// ```
    /// # use aws_session::config::{parse, FileKind};
    /// let parsed = parse("[profile ok]\n", FileKind::Config, "c")?;
    /// assert!(parsed.warnings().is_empty());
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The profiles of the config and credentials files merged: the credentials file
/// wins for a property set in both.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let config = parse("[profile dev]\nregion = eu-west-1\n", FileKind::Config, "config")?;
/// let creds = parse("[dev]\naws_access_key_id = AKIDEXAMPLE\n", FileKind::Credentials, "credentials")?;
/// let set = merge(Some(config), Some(creds));
/// assert_eq!(set.names(), vec!["dev"]);
/// assert!(set.get("prod").is_none());
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSet {
    profiles: BTreeMap<String, Profile>,
    sso_sessions: BTreeMap<String, Profile>,
    warnings: Vec<String>,
}

impl ProfileSet {
    /// The profile called `name` (case-sensitive, without `profile ` prefix).
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let set = merge(None, Some(parse("[default]\nregion = x", FileKind::Credentials, "c")?));
    /// assert_eq!(set.get("default").and_then(|p| p.get("region")), Some("x"));
    /// assert!(set.get("Default").is_none());
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Names of all profiles, sorted (for "known profiles: ..." messages).
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let set = merge(Some(parse("[profile b]\n[default]", FileKind::Config, "c")?), None);
    /// assert_eq!(set.names(), vec!["b", "default"]);
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    /// The `[sso-session name]` section called `name` (config file only).
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let text = "[sso-session corp]\nsso_region = us-east-1\n";
    /// let set = merge(Some(parse(text, FileKind::Config, "c")?), None);
    /// assert_eq!(set.sso_session("corp").and_then(|s| s.get("sso_region")), Some("us-east-1"));
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.get(name)
    }

    /// Names of all sso-sessions, sorted.
    ///
    /// ```
    /// # use aws_session::config::ProfileSet;
    /// assert!(ProfileSet::default().sso_session_names().is_empty());
    /// ```
    pub fn sso_session_names(&self) -> Vec<&str> {
        self.sso_sessions.keys().map(String::as_str).collect()
    }

    /// Warnings of both files (see [`ParsedFile::warnings`]), config file first.
    ///
    /// ```
    /// # use aws_session::config::{merge, parse, FileKind};
    /// let creds = parse("[profile x]\n", FileKind::Credentials, "credentials")?;
    /// assert_eq!(merge(None, Some(creds)).warnings().len(), 1);
    /// # Ok::<(), aws_session::config::ConfigError>(())
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Merges the two files: profiles with the same name merge, and for a property set in
/// both files the credentials file wins. Either file may be missing.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let config = parse("[profile foo]\nname = value\n", FileKind::Config, "config")?;
/// let creds = parse("[foo]\nname = value2\n", FileKind::Credentials, "credentials")?;
/// let set = merge(Some(config), Some(creds));
/// assert_eq!(set.get("foo").and_then(|p| p.get("name")), Some("value2"));
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn merge(config: Option<ParsedFile>, credentials: Option<ParsedFile>) -> ProfileSet {
    let mut set = ProfileSet::default();
    for file in [config, credentials].into_iter().flatten() {
        merge_sections(&mut set.profiles, file.profiles);
        merge_sections(&mut set.sso_sessions, file.sso_sessions);
        set.warnings.extend(file.warnings);
    }
    set
}

fn merge_sections(into: &mut BTreeMap<String, Profile>, from: BTreeMap<String, Profile>) {
    for (name, section) in from {
        into.entry(name)
            .or_insert_with_key(|name| Profile::new(name))
            .properties
            .extend(section.properties);
    }
}

/// Where the two files are, from the environment and the home directory.
///
/// ```
/// # use aws_session::config::file_paths;
/// let paths = file_paths(|_| None, Some("/home/me"));
/// assert_eq!(paths.config.unwrap(), std::path::Path::new("/home/me/.aws/config"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePaths {
    /// `AWS_CONFIG_FILE`, else `<home>/.aws/config`; `None` when it needs a home
    /// directory and none is known.
    pub config: Option<PathBuf>,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `<home>/.aws/credentials`; `None` when it
    /// needs a home directory and none is known.
    pub credentials: Option<PathBuf>,
}

/// Resolves the config and credentials file paths: `AWS_SESSION_CONFIG_FILE` and
/// `AWS_SESSION_CREDENTIALS_FILE` (the real files, kept for aws-session inside a
/// `--server` child), else `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, when set
/// and not empty (a leading `~` or `~/` is the home directory), else
/// `<home>/.aws/config` and `<home>/.aws/credentials`.
///
/// ```
/// use aws_session::config::file_paths;
/// use std::path::Path;
/// let env = |name: &str| match name {
///     "AWS_CONFIG_FILE" => Some("~/work/aws-config".to_string()),
///     _ => None,
/// };
/// let paths = file_paths(env, Some("/home/me"));
/// assert_eq!(paths.config.as_deref(), Some(Path::new("/home/me/work/aws-config")));
/// assert_eq!(paths.credentials.as_deref(), Some(Path::new("/home/me/.aws/credentials")));
/// ```
pub fn file_paths(get_env: impl Fn(&str) -> Option<String>, home: Option<&str>) -> FilePaths {
    let home = home.filter(|h| !h.is_empty());
    // Inside `--server`, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point the SDKs
    // at files without credentials; aws-session's own runs keep reading the real ones.
    let resolve = |ours: &str, var: &str, default_name: &str| -> Option<PathBuf> {
        match get_env(ours)
            .filter(|v| !v.is_empty())
            .or_else(|| get_env(var).filter(|v| !v.is_empty()))
        {
            Some(value) => expand_tilde(&value, home),
            None => home.map(|h| Path::new(h).join(".aws").join(default_name)),
        }
    };
    FilePaths {
        config: resolve("AWS_SESSION_CONFIG_FILE", "AWS_CONFIG_FILE", "config"),
        credentials: resolve(
            "AWS_SESSION_CREDENTIALS_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "credentials",
        ),
    }
}

/// `~` → home, `~/x` → home/x; `~user/...` and everything else unchanged.
fn expand_tilde(value: &str, home: Option<&str>) -> Option<PathBuf> {
    let rest = if value == "~" {
        Some("")
    } else {
        value
            .strip_prefix("~/")
            .or_else(|| value.strip_prefix("~\\").filter(|_| cfg!(windows)))
    };
    match rest {
        None => Some(PathBuf::from(value)),
        Some(rest) => home.map(|h| {
            let h = Path::new(h);
            if rest.is_empty() {
                h.to_path_buf()
            } else {
                h.join(rest)
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ProfileSet {
        merge(
            Some(parse(text, FileKind::Config, "~/.aws/config").unwrap()),
            None,
        )
    }

    #[test]
    fn inline_comment_after_mfa_serial_is_not_part_of_the_value() {
        let set =
            config("[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me # my phone\n");
        assert_eq!(
            set.get("dev").unwrap().get("mfa_serial"),
            Some("arn:aws:iam::123456789012:mfa/me")
        );
        let set = config("[default]\nmfa_serial = arn:aws:iam::123456789012:mfa/me\t; phone\n");
        assert_eq!(
            set.get("default").unwrap().get("mfa_serial"),
            Some("arn:aws:iam::123456789012:mfa/me")
        );
    }

    #[test]
    fn comment_after_section_header() {
        let set = config("[profile dev] ; note\nregion = eu-west-1\n[profile ops]# other\n");
        assert_eq!(set.names(), vec!["dev", "ops"]);
        assert_eq!(set.get("dev").unwrap().get("region"), Some("eu-west-1"));
    }

    #[test]
    fn indented_comment_lines_are_comments() {
        let set = config("[profile dev]\nregion = eu-west-1\n  # old: us-east-1\n");
        assert_eq!(set.get("dev").unwrap().get("region"), Some("eu-west-1"));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let set = config("\u{feff}[default]\r\nregion = eu-west-1\r\n");
        assert_eq!(set.get("default").unwrap().get("region"), Some("eu-west-1"));
    }

    #[test]
    fn credentials_and_config_merge_with_credentials_winning() {
        let cfg = parse(
            "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\nmfa_serial = arn:x\n",
            FileKind::Config,
            "config",
        )
        .unwrap();
        let creds = parse(
            "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3t\n\
             [dev]\naws_access_key_id = AKIDDEV\nregion = ap-south-1\n",
            FileKind::Credentials,
            "credentials",
        )
        .unwrap();
        let set = merge(Some(cfg), Some(creds));
        assert_eq!(set.names(), vec!["default", "dev"]);
        let dev = set.get("dev").unwrap();
        assert_eq!(dev.get("aws_access_key_id"), Some("AKIDDEV"));
        assert_eq!(dev.get("region"), Some("ap-south-1"));
        assert_eq!(dev.get("mfa_serial"), Some("arn:x"));
        let default = set.get("default").unwrap();
        assert_eq!(default.get("region"), Some("us-east-1"));
        assert_eq!(default.get("aws_secret_access_key"), Some("s3cr3t"));
    }

    #[test]
    fn unknown_profile_lookup() {
        let set = config("[profile dev]\n");
        assert!(set.get("prod").is_none());
        assert!(set.get("DEV").is_none());
        assert!(ProfileSet::default().get("default").is_none());
        assert!(ProfileSet::default().names().is_empty());
    }

    #[test]
    fn config_profile_without_prefix_is_ignored_with_a_warning() {
        let parsed = parse("[dev]\nregion = x\n", FileKind::Config, "~/.aws/config").unwrap();
        let set = merge(Some(parsed), None);
        assert!(set.get("dev").is_none());
        assert_eq!(set.warnings().len(), 1);
        assert!(set.warnings()[0].contains("~/.aws/config line 1"));
        assert!(set.warnings()[0].contains("[profile dev]"));
    }

    #[test]
    fn errors_name_file_line_problem_and_fix_without_quoting_the_line() {
        let err = parse(
            "[default]\naws_secret_access_key wJalrXUtnFEMI\n",
            FileKind::Credentials,
            "/home/me/.aws/credentials",
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.line, 2);
        assert!(text.starts_with(
            "/home/me/.aws/credentials line 2: Expected an '=' sign defining a property ("
        ));
        assert!(!text.contains("wJalr"));
        let e: crate::error::Error = err.into();
        assert!(matches!(e, crate::error::Error::Config(m) if m == text));
    }

    #[test]
    fn sub_properties() {
        let set = config(
            "[profile a]\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n",
        );
        let a = set.get("a").unwrap();
        assert_eq!(
            a.sub_properties("s3"),
            vec![
                ("max_concurrent_requests", "20"),
                ("addressing_style", "path")
            ]
        );
        assert!(a.sub_properties("nope").is_empty());
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "\u{feff}",
            "[",
            "]",
            "[]",
            "[ ]",
            "[profile]",
            "[profile ]\n a",
            "\r\n\r\n",
            "\r",
            "[default]\n=",
            "[default]\na=\n =",
            "[default]\n\u{a0}x = 1",
            "[default]\nk = \u{1f600} #\u{1f600}",
            "[\u{1f600}] ;\u{1f600}",
            "[default]\r\r\nk = v\r\r\n",
            "\0\0\0",
        ];
        for input in inputs {
            for kind in [FileKind::Config, FileKind::Credentials] {
                let _ = parse(input, kind, "p");
                let _ = set_property(input, kind, "p", "default", "k", "v");
            }
        }
        let huge = format!("[default]\nk = {}\n", "x".repeat(1 << 20));
        let set = config(&huge);
        assert_eq!(
            set.get("default").unwrap().get("k").map(str::len),
            Some(1 << 20)
        );
    }

    /// Deterministic mini-fuzz: random texts over the characters that matter never
    /// panic, and on every text that parses, `set_property` succeeds and reads back.
    #[test]
    fn random_texts_parse_and_edit_without_panic() {
        const ALPHABET: &[&str] = &[
            "[",
            "]",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "=",
            "#",
            ";",
            "k",
            "dev",
            "profile ",
            "default",
            "sso-session ",
            "\u{e9}",
            "\u{feff}",
            "x",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut edited = 0;
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            for kind in [FileKind::Config, FileKind::Credentials] {
                let parsed = parse(&text, kind, "p");
                for profile in ["dev", "default"] {
                    let out = set_property(&text, kind, "p", profile, "k", "v=1");
                    assert_eq!(out.is_ok(), parsed.is_ok(), "{text:?} {kind:?} {profile}");
                    if let Ok(out) = out {
                        edited += 1;
                        let set = merge(Some(parse(&out, kind, "p").unwrap()), None);
                        assert_eq!(set.get(profile).unwrap().get("k"), Some("v=1"));
                    }
                }
            }
        }
        assert!(edited > 1000, "too few parseable texts: {edited}");
    }

    #[test]
    fn empty_brackets_name_no_profile() {
        let set = merge(
            None,
            Some(parse("[]\nk = v\n", FileKind::Credentials, "c").unwrap()),
        );
        assert!(set.names().is_empty());
    }

    #[test]
    fn file_paths_defaults_env_and_tilde() {
        let none = |_: &str| None;
        let p = file_paths(none, Some("/home/me"));
        assert_eq!(p.config, Some(PathBuf::from("/home/me/.aws/config")));
        assert_eq!(
            p.credentials,
            Some(PathBuf::from("/home/me/.aws/credentials"))
        );

        let env = |name: &str| match name {
            "AWS_CONFIG_FILE" => Some("/etc/aws/config".to_string()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some("~/secrets/creds".to_string()),
            _ => None,
        };
        let p = file_paths(env, Some("/home/me"));
        assert_eq!(p.config, Some(PathBuf::from("/etc/aws/config")));
        assert_eq!(p.credentials, Some(PathBuf::from("/home/me/secrets/creds")));

        // No home: defaults and `~` cannot be resolved, absolute overrides still work.
        let p = file_paths(env, None);
        assert_eq!(p.config, Some(PathBuf::from("/etc/aws/config")));
        assert_eq!(p.credentials, None);

        // Empty variables count as unset; `~user` is not expanded.
        let env = |name: &str| match name {
            "AWS_CONFIG_FILE" => Some(String::new()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some("~other/creds".to_string()),
            _ => None,
        };
        let p = file_paths(env, Some("/h"));
        assert_eq!(p.config, Some(PathBuf::from("/h/.aws/config")));
        assert_eq!(p.credentials, Some(PathBuf::from("~other/creds")));
        let env = |_: &str| Some("~".to_string());
        assert_eq!(
            file_paths(env, Some("/h")).config,
            Some(PathBuf::from("/h"))
        );
    }

    // ---- set_property ------------------------------------------------------------------

    const ARN: &str = "arn:aws:iam::123456789012:mfa/me";

    fn set(text: &str, kind: FileKind, profile: &str, key: &str, value: &str) -> String {
        set_property(text, kind, "~/.aws/config", profile, key, value).unwrap()
    }

    #[test]
    fn set_property_inserts_after_last_property_keeping_everything_else() {
        let text = "# AWS config\n\
                    ; keep me\n\
                    [default]\n\
                    region = us-east-1 # home\n\
                    \n\
                    [profile dev] ; the dev account\n\
                    region = eu-west-1\n\
                    output = json\n\
                    # trailing comment of dev\n\
                    \n\
                    [profile prod]\n\
                    region = us-west-2\n";
        let want = "# AWS config\n\
                    ; keep me\n\
                    [default]\n\
                    region = us-east-1 # home\n\
                    \n\
                    [profile dev] ; the dev account\n\
                    region = eu-west-1\n\
                    output = json\n\
                    mfa_serial = arn:aws:iam::123456789012:mfa/me\n\
                    # trailing comment of dev\n\
                    \n\
                    [profile prod]\n\
                    region = us-west-2\n";
        assert_eq!(set(text, FileKind::Config, "dev", "mfa_serial", ARN), want);
    }

    #[test]
    fn set_property_replaces_in_place_keeping_the_comment() {
        let text = "[profile dev]\nMFA_Serial = arn:old   # my phone\nregion = x\n[profile prod]\nmfa_serial = arn:prod\n";
        let want = "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/me   # my phone\nregion = x\n[profile prod]\nmfa_serial = arn:prod\n";
        assert_eq!(set(text, FileKind::Config, "dev", "mfa_serial", ARN), want);
    }

    #[test]
    fn set_property_replaces_the_effective_duplicate_and_its_continuations() {
        let text = "[profile dev]\nk = first\n[profile other]\n[profile dev]\nk = multi\n  line\n\n  more\nz = 1\n";
        let want = "[profile dev]\nk = first\n[profile other]\n[profile dev]\nk = v\n\nz = 1\n";
        assert_eq!(set(text, FileKind::Config, "dev", "k", "v"), want);
    }

    #[test]
    fn set_property_crlf_and_missing_final_newline() {
        let text = "[profile a]\r\nregion = x\r\n\r\n[profile dev]\r\nregion = y";
        let want = "[profile a]\r\nregion = x\r\n\r\n[profile dev]\r\nregion = y\r\nmfa_serial = arn:aws:iam::123456789012:mfa/me";
        assert_eq!(set(text, FileKind::Config, "dev", "mfa_serial", ARN), want);

        // Replacement keeps CRLF and the missing final newline too.
        let text = "[profile dev]\r\nk = old";
        assert_eq!(
            set(text, FileKind::Config, "dev", "k", "new"),
            "[profile dev]\r\nk = new"
        );
    }

    #[test]
    fn set_property_section_without_properties() {
        let text = "[profile dev]\n# nothing yet\n[profile b]\n";
        assert_eq!(
            set(text, FileKind::Config, "dev", "k", "v"),
            "[profile dev]\nk = v\n# nothing yet\n[profile b]\n"
        );
        assert_eq!(
            set("[profile dev]", FileKind::Config, "dev", "k", "v"),
            "[profile dev]\nk = v"
        );
    }

    #[test]
    fn set_property_appends_a_new_section() {
        assert_eq!(
            set("", FileKind::Config, "dev", "k", "v"),
            "[profile dev]\nk = v\n"
        );
        assert_eq!(
            set("[profile a]\nx = 1\n", FileKind::Config, "dev", "k", "v"),
            "[profile a]\nx = 1\n\n[profile dev]\nk = v\n"
        );
        assert_eq!(
            set(
                "[profile a]\nx = 1\n\n",
                FileKind::Config,
                "default",
                "k",
                "v"
            ),
            "[profile a]\nx = 1\n\n[default]\nk = v\n"
        );
        assert_eq!(
            set("[a]\r\nx = 1", FileKind::Credentials, "dev", "k", "v"),
            "[a]\r\nx = 1\r\n\r\n[dev]\r\nk = v"
        );
        // `[dev]` in the config file is not the profile dev: a real one is appended.
        assert_eq!(
            set("[dev]\nk = old\n", FileKind::Config, "dev", "k", "v"),
            "[dev]\nk = old\n\n[profile dev]\nk = v\n"
        );
    }

    #[test]
    fn set_property_default_precedence_and_credentials_kind() {
        let text = "[default]\nk = hidden\n[profile default]\nregion = x\n";
        assert_eq!(
            set(text, FileKind::Config, "default", "k", "v"),
            "[default]\nk = hidden\n[profile default]\nregion = x\nk = v\n"
        );
        let text = "[default]\naws_access_key_id = A\n[profile dev]\n[dev]\nx = 1\n";
        assert_eq!(
            set(text, FileKind::Credentials, "dev", "k", "v"),
            "[default]\naws_access_key_id = A\n[profile dev]\n[dev]\nx = 1\nk = v\n"
        );
    }

    #[test]
    fn set_property_keeps_bom() {
        let text = "\u{feff}[profile dev]\nx = 1\n";
        assert_eq!(
            set(text, FileKind::Config, "dev", "x", "2"),
            "\u{feff}[profile dev]\nx = 2\n"
        );
    }

    #[test]
    fn set_property_refuses_bad_input() {
        let ok = "[profile dev]\n";
        for (profile, key, value) in [
            ("in valid", "k", "v"),
            ("", "k", "v"),
            ("dev", "in valid", "v"),
            ("dev", "k=", "v"),
            ("dev", "k", "a\nb = c"),
            ("dev", "k", "a\rb"),
            ("dev", "k", " padded"),
            ("dev", "k", "a # comment"),
        ] {
            let r = set_property(ok, FileKind::Config, "cfg", profile, key, value);
            assert!(r.is_err(), "{profile:?} {key:?} {value:?}");
        }
        let err =
            set_property("[profile dev", FileKind::Config, "cfg", "dev", "k", "v").unwrap_err();
        assert!(err.to_string().starts_with("cfg line 1: "));
        // A value may contain '=' and '#' not preceded by whitespace.
        assert_eq!(
            set(ok, FileKind::Config, "dev", "k", "a=b#c"),
            "[profile dev]\nk = a=b#c\n"
        );
    }
}
