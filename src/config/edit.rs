//! Editing a profile file in place: one property set, every other byte kept.

use super::parse::*;
use super::*;

/// One line of a text with its byte range; `end` includes the line terminator.
struct RawLine<'a> {
    /// The line without `\n` / `\r\n` (and without a leading BOM on the first line).
    content: &'a str,
    /// The terminator: "", "\n" or "\r\n".
    terminator: &'a str,
}

fn split_lines(text: &str) -> Vec<RawLine<'_>> {
    let mut lines = Vec::new();
    for (idx, piece) in text.split_inclusive('\n').enumerate() {
        let (body, terminator) = if let Some(b) = piece.strip_suffix("\r\n") {
            (b, "\r\n")
        } else if let Some(b) = piece.strip_suffix('\n') {
            (b, "\n")
        } else {
            (piece, "")
        };
        let content = if idx == 0 {
            body.strip_prefix(UTF8_BOM).unwrap_or(body)
        } else {
            body
        };
        lines.push(RawLine {
            content,
            terminator,
        });
    }
    lines
}

/// A property in the edited file: its key line and the last line of its value.
struct PropertySpan {
    key: String,
    first: usize,
    last: usize,
}

struct EditSection {
    header: usize,
    properties: Vec<PropertySpan>,
}

/// Returns `text` with `key = value` set in `profile`'s section, everything else
/// byte-for-byte unchanged (comments, blank lines, order, CRLF/LF, final newline):
///
/// - the line that defines `key` (the one that takes effect) is replaced in place,
///   keeping its trailing comment, and its continuation lines are dropped;
/// - else the line is inserted after the last property of the first section of that
///   profile;
/// - else a section `[profile name]` (`[default]`, or `[name]` in the credentials file)
///   is appended.
///
/// Refuses (with a [`ConfigError`]) a text that does not parse, an invalid profile name
/// or key, and a value that would not read back unchanged (line breaks, surrounding
/// whitespace, ` #` / ` ;` inside).
///
/// ```
/// use aws_session::config::{set_property, FileKind};
/// let text = "# mine\n[profile dev]\nregion = eu-west-1\n\n[profile prod]\n";
/// let out = set_property(text, FileKind::Config, "~/.aws/config", "dev", "mfa_serial",
///                        "arn:aws:iam::123456789012:mfa/me")?;
/// assert_eq!(out, "# mine\n[profile dev]\nregion = eu-west-1\n\
///                  mfa_serial = arn:aws:iam::123456789012:mfa/me\n\n[profile prod]\n");
/// # Ok::<(), aws_session::config::ConfigError>(())
/// ```
pub fn set_property(
    text: &str,
    kind: FileKind,
    path: &str,
    profile: &str,
    key: &str,
    value: &str,
) -> Result<String, ConfigError> {
    let arg_error = |message: String, hint: &str| edit_error(path, message, hint);
    let new_line = checked_line(path, profile, key, value)?;
    // Never edit what we cannot read: the user's file stays as it is.
    parse_raw(text, kind, path)?;

    let lines = split_lines(text);
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let key_lower = key.to_ascii_lowercase();
    let mut sections = profile_sections(&lines, kind, profile);
    // In the config file `[profile default]` hides `[default]`.
    let prefixed_default = sections
        .iter()
        .any(|(id, _)| matches!(id, SectionId::Profile { prefixed: true, .. }));
    if kind == FileKind::Config && profile == "default" && prefixed_default {
        sections.retain(|(id, _)| matches!(id, SectionId::Profile { prefixed: true, .. }));
    }

    let existing = sections
        .iter()
        .flat_map(|(_, s)| s.properties.iter())
        .rev()
        .find(|span| span.key == key_lower);

    let mut out = String::with_capacity(text.len() + new_line.len() + 32);
    if text.starts_with(UTF8_BOM) {
        out.push(UTF8_BOM);
    }
    if let Some(span) = existing {
        for (idx, line) in lines.iter().enumerate() {
            if idx == span.first {
                out.push_str(&new_line);
                out.push_str(trailing_comment(line.content));
                out.push_str(line.terminator);
            } else if idx > span.first
                && idx <= span.last
                && matches!(classify(line.content), Line::Continuation(_))
            {
                // The old value's continuation lines go with it.
            } else {
                out.push_str(line.content);
                out.push_str(line.terminator);
            }
        }
    } else if let Some((_, section)) = sections.first() {
        let after = section
            .properties
            .last()
            .map_or(section.header, |span| span.last);
        for (idx, line) in lines.iter().enumerate() {
            out.push_str(line.content);
            out.push_str(line.terminator);
            if idx == after {
                if line.terminator.is_empty() {
                    // Last line without a final newline: keep it that way.
                    out.push_str(eol);
                    out.push_str(&new_line);
                } else {
                    out.push_str(&new_line);
                    out.push_str(eol);
                }
            }
        }
    } else {
        out.push_str(text.strip_prefix(UTF8_BOM).unwrap_or(text));
        let final_newline = text.is_empty() || text.ends_with('\n');
        if !final_newline {
            out.push_str(eol);
        }
        let last_blank = lines
            .last()
            .is_none_or(|l| l.content.trim_matches(WHITESPACE).is_empty());
        if !last_blank {
            out.push_str(eol);
        }
        let header = match kind {
            FileKind::Config if profile == "default" => "[default]".to_string(),
            FileKind::Config => format!("[profile {profile}]"),
            FileKind::Credentials => format!("[{profile}]"),
        };
        out.push_str(&header);
        out.push_str(eol);
        out.push_str(&new_line);
        if final_newline {
            out.push_str(eol);
        }
    }

    // Belt and braces: the edit must read back as intended before anyone writes it.
    let check = parse(&out, kind, path).ok().map(|f| merge(Some(f), None));
    if check
        .as_ref()
        .and_then(|set| set.get(profile))
        .and_then(|p| p.get(key))
        != Some(value)
    {
        return Err(arg_error(
            format!("editing profile `{profile}` would not set `{key}` as intended"),
            "edit the file by hand, and please report this bug",
        ));
    }
    Ok(out)
}

/// An error of an edit that was asked for (not of the file: line 0).
fn edit_error(path: &str, message: String, hint: &str) -> ConfigError {
    ConfigError {
        path: path.to_string(),
        line: 0,
        message,
        hint: hint.to_string(),
    }
}

/// The line `key = value`, once profile, key and value are checked: names of the
/// allowed characters, a value that reads back unchanged.
fn checked_line(path: &str, profile: &str, key: &str, value: &str) -> Result<String, ConfigError> {
    if !is_identifier(profile) {
        return Err(edit_error(
            path,
            format!("cannot write profile `{profile}`: not a valid profile name"),
            "use letters, digits and - _ / . % @ : +",
        ));
    }
    if !is_identifier(key) {
        return Err(edit_error(
            path,
            format!("cannot write property `{key}`: not a valid property name"),
            "use letters, digits and - _ / . % @ : +",
        ));
    }
    let new_line = format!("{key} = {value}");
    if value.contains(['\n', '\r']) || split_property(&new_line) != Ok((key, value)) {
        return Err(edit_error(
            path,
            format!("cannot write a value for `{key}` that would not read back unchanged"),
            "the value must be one line, without surrounding spaces and without ' #' or ' ;'",
        ));
    }
    Ok(new_line)
}

/// The sections of `profile` in `lines`, with their property spans.
fn profile_sections(
    lines: &[RawLine<'_>],
    kind: FileKind,
    profile: &str,
) -> Vec<(SectionId, EditSection)> {
    let mut sections: Vec<(SectionId, EditSection)> = Vec::new();
    let mut in_target = false;
    for (idx, line) in lines.iter().enumerate() {
        match classify(line.content) {
            Line::Blank | Line::Comment => {}
            Line::Header(h) => {
                let id = header_inner(h).and_then(|inner| section_id(inner, kind).ok());
                in_target = false;
                if let Some(id @ SectionId::Profile { .. }) = id {
                    if matches!(&id, SectionId::Profile { name, .. } if name == profile) {
                        in_target = true;
                        sections.push((
                            id,
                            EditSection {
                                header: idx,
                                properties: Vec::new(),
                            },
                        ));
                    }
                }
            }
            Line::Property(p) => {
                if let (true, Some((_, section))) = (in_target, sections.last_mut()) {
                    if let Ok((k, _)) = split_property(p) {
                        section.properties.push(PropertySpan {
                            key: k.to_ascii_lowercase(),
                            first: idx,
                            last: idx,
                        });
                    }
                }
            }
            Line::Continuation(_) => {
                if let (true, Some((_, section))) = (in_target, sections.last_mut()) {
                    if let Some(span) = section.properties.last_mut() {
                        span.last = idx;
                    }
                }
            }
        }
    }
    sections
}

/// The whitespace and comment after a property's value (` # my phone`), or "".
fn trailing_comment(line: &str) -> &str {
    let mut prev_whitespace = false;
    for (idx, ch) in line.char_indices() {
        if COMMENT.contains(&ch) && prev_whitespace {
            let start = line
                .get(..idx)
                .map_or(idx, |before| before.trim_end_matches(WHITESPACE).len());
            return line.get(start..).unwrap_or("");
        }
        prev_whitespace = ch.is_whitespace();
    }
    ""
}
