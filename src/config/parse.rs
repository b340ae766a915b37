//! Reading a profile file: text in, [`ParsedFile`] out (the rules are in the parent
//! module's documentation).

use super::*;

/// What a line is, before any state is taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line<'a> {
    Blank,
    Comment,
    /// Starts with `[`.
    Header(&'a str),
    /// Starts with whitespace: continues the property above.
    Continuation(&'a str),
    /// Anything else: `key = value`.
    Property(&'a str),
}

pub(super) fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim_matches(WHITESPACE);
    if trimmed.is_empty() {
        Line::Blank
    } else if trimmed.starts_with(COMMENT) {
        // Indented comment lines count as comments too (AWS CLI behaviour).
        Line::Comment
    } else if line.starts_with('[') {
        Line::Header(line)
    } else if line.starts_with(WHITESPACE) {
        Line::Continuation(line)
    } else {
        Line::Property(line)
    }
}

/// Trims and cuts a trailing comment. In values a comment needs whitespace before
/// it (`a = b#c` is the value `b#c`); after a section header it does not.
pub(super) fn strip_comment(line: &str, comments_need_whitespace: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut prev_whitespace = false;
    let mut end = line.len();
    for (idx, ch) in line.char_indices() {
        if COMMENT.contains(&ch) && (prev_whitespace || !comments_need_whitespace) {
            end = idx;
            break;
        }
        prev_whitespace = ch.is_whitespace();
    }
    line.get(..end).unwrap_or(line).trim_matches(WHITESPACE)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PropertyError {
    NoEquals,
    NoName,
}

/// `key = value # comment` → (`key` as written, `value`).
pub(super) fn split_property(line: &str) -> Result<(&str, &str), PropertyError> {
    let line = strip_comment(line, true);
    let (k, v) = line.split_once('=').ok_or(PropertyError::NoEquals)?;
    let k = k.trim_matches(WHITESPACE);
    if k.is_empty() {
        return Err(PropertyError::NoName);
    }
    Ok((k, v.trim_matches(WHITESPACE)))
}

/// `[ profile foo ] ; comment` → `profile foo`, or `None` without the closing `]`.
pub(super) fn header_inner(line: &str) -> Option<&str> {
    let line = strip_comment(line, false);
    line.strip_prefix('[')?
        .strip_suffix(']')
        .map(|inner| inner.trim_matches(WHITESPACE))
}

/// Profile names and property keys: `[A-Za-z0-9_\-/.%@:+]+`.
pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || IDENTIFIER_EXTRA.contains(&c))
}

/// What a section header means in a file of a given kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SectionId {
    Profile { name: String, prefixed: bool },
    SsoSession(String),
    Services(String),
}

/// Interprets the inside of a section header, or says why the section is ignored.
pub(super) fn section_id(inner: &str, kind: FileKind) -> Result<SectionId, String> {
    let inner = inner.trim_matches(WHITESPACE);
    let (prefix, name) = match inner.split_once(WHITESPACE) {
        Some((prefix, name)) => (Some(prefix.trim()), name.trim()),
        None => (None, inner.trim()),
    };
    let invalid_name = |what: &str| {
        format!("`{name}` is not a valid {what} name (use letters, digits and - _ / . % @ : +)")
    };
    match (kind, prefix) {
        (FileKind::Config, Some(prefix)) => {
            if !is_identifier(name) {
                return Err(invalid_name("section"));
            }
            match prefix {
                "profile" => Ok(SectionId::Profile {
                    name: name.to_string(),
                    prefixed: true,
                }),
                "sso-session" => Ok(SectionId::SsoSession(name.to_string())),
                "services" => Ok(SectionId::Services(name.to_string())),
                other => Err(format!(
                    "`{other}` sections are not profiles (write [profile {name}] for a profile)"
                )),
            }
        }
        (FileKind::Config, None) if name == "default" => Ok(SectionId::Profile {
            name: name.to_string(),
            prefixed: false,
        }),
        (FileKind::Config, None) => Err(format!(
            "profiles in the config file need the `profile` prefix: write [profile {name}]"
        )),
        (FileKind::Credentials, Some("profile")) => Err(format!(
            "profiles in the credentials file have no `profile` prefix: write [{name}]"
        )),
        (FileKind::Credentials, Some(prefix)) => Err(format!(
            "[{prefix} {name}] belongs in the config file, not the credentials file"
        )),
        (FileKind::Credentials, None) => {
            if is_identifier(name) {
                Ok(SectionId::Profile {
                    name: name.to_string(),
                    prefixed: false,
                })
            } else {
                Err(invalid_name("profile"))
            }
        }
    }
}

/// A section as written: its header and its properties in file order.
pub(super) struct RawSection<'a> {
    inner: &'a str,
    line: usize,
    /// (key as written, 1-based line, value).
    properties: Vec<(&'a str, usize, String)>,
}

pub(super) fn kind_example(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Config => "[default] or [profile dev]",
        FileKind::Credentials => "[default] or [dev]",
    }
}

/// Reads one file's text. `path` is used only in messages.
///
/// ```
/// use aws_session::config::{merge, parse, FileKind};
/// let text = "[profile dev] ; work account\n\
///             mfa_serial = arn:aws:iam::123456789012:mfa/me # my phone\n";
/// let set = merge(Some(parse(text, FileKind::Config, "~/.aws/config")?), None);
/// assert_eq!(
///     set.get("dev").and_then(|p| p.get("mfa_serial")),
///     Some("arn:aws:iam::123456789012:mfa/me")
/// );
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn parse(text: &str, kind: FileKind, path: &str) -> Result<ParsedFile, ConfigError> {
    let raw = parse_raw(text, kind, path)?;
    Ok(normalize(raw, kind, path))
}

/// The line-level pass: sections, properties, continuations; errors for malformed lines.
pub(super) fn parse_raw<'a>(
    text: &'a str,
    kind: FileKind,
    path: &str,
) -> Result<Vec<RawSection<'a>>, ConfigError> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let mut sections: Vec<RawSection<'a>> = Vec::new();
    // Index of the property that continuation lines extend, and whether it opened a
    // sub-property block (its value was empty).
    let mut current: Option<(usize, bool)> = None;
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let error = |message: &str, hint: String| ConfigError {
            path: path.to_string(),
            line: line_no,
            message: message.to_string(),
            hint,
        };
        match classify(line) {
            Line::Blank | Line::Comment => {}
            Line::Header(line) => {
                let inner = header_inner(line).ok_or_else(|| {
                    error(
                        "Profile definition must end with ']'",
                        format!(
                            "write the section header on one line, like {}",
                            kind_example(kind)
                        ),
                    )
                })?;
                sections.push(RawSection {
                    inner,
                    line: line_no,
                    properties: Vec::new(),
                });
                current = None;
            }
            Line::Property(line) => {
                let Some(section) = sections.last_mut() else {
                    return Err(error(
                        "Expected a profile definition before this property",
                        format!(
                            "put a section header such as {} above it",
                            kind_example(kind)
                        ),
                    ));
                };
                let (key, value) = split_property(line).map_err(|e| match e {
                    PropertyError::NoName => error(
                        "Property did not have a name",
                        "write it as name = value".to_string(),
                    ),
                    PropertyError::NoEquals => error(
                        "Expected an '=' sign defining a property",
                        "write it as name = value, or start the line with # to make it a comment"
                            .to_string(),
                    ),
                })?;
                section.properties.push((key, line_no, value.to_string()));
                current = Some((section.properties.len() - 1, value.is_empty()));
            }
            Line::Continuation(line) => {
                let Some(section) = sections.last_mut() else {
                    return Err(error(
                        "Expected a profile definition before this indented line",
                        format!(
                            "remove the indentation and put a section header such as {} above it",
                            kind_example(kind)
                        ),
                    ));
                };
                let Some((prop_idx, is_sub_property)) = current else {
                    return Err(error(
                        "Expected a property definition, found continuation",
                        "an indented line continues the property above it: remove the \
                         indentation, or write a name = value line before it"
                            .to_string(),
                    ));
                };
                if is_sub_property {
                    split_property(line).map_err(|e| match e {
                        PropertyError::NoName => error(
                            "Sub-property did not have a name",
                            "write it as name = value".to_string(),
                        ),
                        PropertyError::NoEquals => error(
                            "Expected an '=' sign defining a sub-property",
                            "lines indented under a property with an empty value must look \
                             like name = value; give the property a value or fix this line"
                                .to_string(),
                        ),
                    })?;
                }
                if let Some((_, _, value)) = section.properties.get_mut(prop_idx) {
                    value.push('\n');
                    value.push_str(line.trim_matches(WHITESPACE));
                }
            }
        }
    }
    Ok(sections)
}

/// The section-level pass: prefixes, `[profile default]` precedence, name validation,
/// merging of duplicate sections in file order.
fn normalize(raw: Vec<RawSection<'_>>, kind: FileKind, path: &str) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut valid = Vec::new();
    for section in raw {
        match section_id(section.inner, kind) {
            Ok(id) => valid.push((id, section)),
            Err(why) => parsed.warnings.push(format!(
                "{path} line {}: section [{}] ignored: {why}",
                section.line, section.inner
            )),
        }
    }
    let has_prefixed_default = valid.iter().any(
        |(id, _)| matches!(id, SectionId::Profile { name, prefixed: true } if name == "default"),
    );
    for (id, section) in valid {
        let target = match id {
            SectionId::Profile { name, prefixed } => {
                if has_prefixed_default && !prefixed && name == "default" {
                    parsed.warnings.push(format!(
                        "{path} line {}: section [default] ignored: [profile default] in the \
                         same file takes priority",
                        section.line
                    ));
                    continue;
                }
                parsed
                    .profiles
                    .entry(name)
                    .or_insert_with_key(|n| Profile::new(n))
            }
            SectionId::SsoSession(name) => parsed
                .sso_sessions
                .entry(name)
                .or_insert_with_key(|n| Profile::new(n)),
            SectionId::Services(name) => parsed
                .services
                .entry(name)
                .or_insert_with_key(|n| Profile::new(n)),
        };
        for (key, line, value) in section.properties {
            if is_identifier(key) {
                target.properties.insert(key.to_ascii_lowercase(), value);
            } else {
                parsed.warnings.push(format!(
                    "{path} line {line}: property `{key}` in [{}] ignored: not a valid name \
                     (use letters, digits and - _ / . % @ : +)",
                    section.inner
                ));
            }
        }
    }
    parsed
}
