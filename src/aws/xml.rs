//! Small helpers over quick-xml for AWS Query API answers: parse a body into a
//! [`Document`], read the text of elements by path under an expected root
//! (namespaces ignored), and read AWS error documents ([`parse_error_response`]).
//!
//! Everything here is linear in the size of the body (the caller caps bodies at
//! 1 MiB), never recurses over the document, and never panics: a body that is not
//! what AWS sends is an [`XmlError`] whose `Display` says what came instead.
//! No variant holds element text, so a truncated answer that carried a secret
//! never puts that secret into an error message.

use crate::encode::{printable, printable_line};
use quick_xml::errors::{Error as QxError, IllFormedError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::fmt;

/// Why a response body could not be read as the AWS answer that was expected.
///
/// ```
/// use aws_session::aws::xml::{Document, XmlError};
/// let e = Document::parse_expecting("<Foo/>", "GetSessionTokenResponse").unwrap_err();
/// assert!(matches!(e, XmlError::WrongRoot { .. }));
/// assert_eq!(e.to_string(), "root element <Foo>, expected <GetSessionTokenResponse>");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// The body is empty or only whitespace.
    Empty,
    /// The body is not XML at all (plain text, JSON, ...).
    NotXml {
        /// A word on what it looks like instead, e.g. `"a JSON document"`.
        looks_like: &'static str,
    },
    /// The body is an HTML page, typically an error page from a proxy or load balancer.
    Html {
        /// The page's `<title>`, if it has one (at most 80 characters).
        title: Option<String>,
    },
    /// The document ends before it is complete.
    Truncated {
        /// The innermost element left open, when known.
        inside: Option<String>,
    },
    /// The body is XML-like but not well-formed.
    Malformed {
        /// What the parser found wrong (names of tags at most, never element text).
        detail: String,
    },
    /// The root element is not the one expected.
    WrongRoot {
        /// Local name of the root element that came.
        found: String,
        /// Local name of the root element that was expected.
        expected: String,
    },
    /// A required element is missing; `path` reads like `<A><B>` (below the root).
    Missing {
        /// The missing element's path below the root.
        path: String,
    },
    /// A required element is there but its text is not usable.
    Invalid {
        /// The element's path below the root.
        path: String,
        /// Why its text is not usable (never the text of a secret).
        reason: String,
    },
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Empty => f.write_str("an empty body"),
            XmlError::NotXml { looks_like } => write!(f, "not XML ({looks_like})"),
            XmlError::Html { title: Some(t) } => write!(f, "an HTML page (\"{t}\")"),
            XmlError::Html { title: None } => f.write_str("an HTML page"),
            XmlError::Truncated { inside: Some(name) } => {
                write!(f, "truncated XML (the document ends inside <{name}>)")
            }
            XmlError::Truncated { inside: None } => f.write_str("truncated XML"),
            XmlError::Malformed { detail } => write!(f, "malformed XML: {detail}"),
            XmlError::WrongRoot { found, expected } => {
                write!(f, "root element <{found}>, expected <{expected}>")
            }
            XmlError::Missing { path } => write!(f, "missing {path}"),
            XmlError::Invalid { path, reason } => write!(f, "{path} {reason}"),
        }
    }
}

impl std::error::Error for XmlError {}

impl XmlError {
    /// The crate error for an answer to `action` that could not be read.
    ///
    /// ```
    /// use aws_session::aws::xml::XmlError;
    /// let e = XmlError::Empty.into_error("GetSessionToken");
    /// assert!(e.to_string().contains("GetSessionToken"));
    /// ```
    pub fn into_error(self, action: &str) -> crate::error::Error {
        crate::error::Error::NotAws(format!(
            "{action} answered with an unusable document: {self} (not what AWS sends: check AWS_ENDPOINT_URL, HTTPS_PROXY and the network)"
        ))
    }
}

/// Format a path of element names as `<A><B><C>`.
///
/// ```
/// assert_eq!(aws_session::aws::xml::path_string(&["A", "B"]), "<A><B>");
/// ```
pub fn path_string(path: &[&str]) -> String {
    let mut s = String::new();
    for p in path {
        s.push('<');
        s.push_str(p);
        s.push('>');
    }
    s
}

/// One element in the arena: local name, own text (entities resolved), children.
#[derive(Debug, Clone)]
struct Node {
    name: String,
    text: String,
    children: Vec<usize>,
}

/// A parsed XML document: elements with their local names and text.
///
/// Stored as a flat arena (no recursion to build, walk or drop it), so deep or
/// wide documents cost linear time and constant stack.
///
/// ```
/// use aws_session::aws::xml::Document;
/// let doc = Document::parse("<a xmlns='x'><b>1 &amp; 2</b></a>").unwrap();
/// assert_eq!(doc.root().text_at(&["b"]), Some("1 & 2"));
/// ```
#[derive(Debug, Clone)]
pub struct Document {
    nodes: Vec<Node>,
    root: usize,
}

/// A reference to one element of a [`Document`].
///
/// ```
/// use aws_session::aws::xml::Document;
/// let doc = Document::parse("<a><b>x</b></a>").unwrap();
/// let b = doc.root().child("b").unwrap();
/// assert_eq!((b.name(), b.text()), ("b", "x"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    doc: &'a Document,
    idx: usize,
}

impl Document {
    /// Parse `body` as an XML document with one root element.
    ///
    /// ```
    /// use aws_session::aws::xml::{Document, XmlError};
    /// assert!(Document::parse("<a/>").is_ok());
    /// assert_eq!(Document::parse("  ").unwrap_err(), XmlError::Empty);
    /// ```
    pub fn parse(body: &str) -> Result<Document, XmlError> {
        let body = body.strip_prefix('\u{feff}').unwrap_or(body);
        let trimmed = body.trim_start();
        if trimmed.is_empty() {
            return Err(XmlError::Empty);
        }
        if looks_like_html(trimmed) {
            return Err(html_error(body));
        }
        if !trimmed.starts_with('<') {
            let looks_like = if trimmed.starts_with('{') || trimmed.starts_with('[') {
                "a JSON document"
            } else {
                "plain text"
            };
            return Err(XmlError::NotXml { looks_like });
        }
        match parse_tree(body) {
            Ok(doc) => Ok(doc),
            // An HTML page that is not well-formed XML (`<hr>`, `<meta ...>`): say so.
            Err(XmlError::Malformed { .. } | XmlError::Truncated { .. })
                if contains_ignore_ascii_case(body, "<html") =>
            {
                Err(html_error(body))
            }
            Err(e) => Err(e),
        }
    }

    /// Parse `body` and check that its root element is `<expected_root>` (namespace ignored).
    ///
    /// ```
    /// use aws_session::aws::xml::Document;
    /// let doc = Document::parse_expecting("<R xmlns='urn:x'/>", "R").unwrap();
    /// assert_eq!(doc.root().name(), "R");
    /// ```
    pub fn parse_expecting(body: &str, expected_root: &str) -> Result<Document, XmlError> {
        let doc = Document::parse(body)?;
        let found = doc.root().name();
        if found != expected_root {
            return Err(XmlError::WrongRoot {
                found: found.to_string(),
                expected: expected_root.to_string(),
            });
        }
        Ok(doc)
    }

    /// The root element.
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r/>").unwrap();
    /// assert_eq!(doc.root().name(), "r");
    /// ```
    pub fn root(&self) -> Element<'_> {
        Element {
            doc: self,
            idx: self.root,
        }
    }
}

impl<'a> Element<'a> {
    fn node(&self) -> &'a Node {
        // `idx` always comes from the arena it indexes; fall back to the root if not.
        self.doc
            .nodes
            .get(self.idx)
            .unwrap_or(&self.doc.nodes[self.doc.root])
    }

    /// The element's local name (prefix and namespace dropped).
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<x:r xmlns:x='u'/>").unwrap();
    /// assert_eq!(doc.root().name(), "r");
    /// ```
    pub fn name(&self) -> &'a str {
        &self.node().name
    }

    /// The element's own text, entities resolved, surrounding whitespace trimmed.
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r> a&lt;b </r>").unwrap();
    /// assert_eq!(doc.root().text(), "a<b");
    /// ```
    pub fn text(&self) -> &'a str {
        self.node().text.trim()
    }

    /// The first child element named `name`.
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r><a/><b/></r>").unwrap();
    /// assert!(doc.root().child("b").is_some());
    /// ```
    pub fn child(&self, name: &str) -> Option<Element<'a>> {
        let doc = self.doc;
        self.node()
            .children
            .iter()
            .map(|&idx| Element { doc, idx })
            .find(|e| e.name() == name)
    }

    /// All child elements named `name`, in document order.
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r><m>1</m><m>2</m></r>").unwrap();
    /// assert_eq!(doc.root().children("m").count(), 2);
    /// ```
    pub fn children<'n>(&self, name: &'n str) -> impl Iterator<Item = Element<'a>> + 'n
    where
        'a: 'n,
    {
        let doc = self.doc;
        self.node()
            .children
            .iter()
            .map(move |&idx| Element { doc, idx })
            .filter(move |e| e.name() == name)
    }

    /// The element at `path` below this one (first match at each step).
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r><a><b>x</b></a></r>").unwrap();
    /// assert_eq!(doc.root().find(&["a", "b"]).map(|e| e.text()), Some("x"));
    /// ```
    pub fn find(&self, path: &[&str]) -> Option<Element<'a>> {
        let mut here = *self;
        for name in path {
            here = here.child(name)?;
        }
        Some(here)
    }

    /// The trimmed text of the element at `path`, if that element exists.
    ///
    /// ```
    /// let doc = aws_session::aws::xml::Document::parse("<r><a>x</a></r>").unwrap();
    /// assert_eq!(doc.root().text_at(&["a"]), Some("x"));
    /// ```
    pub fn text_at(&self, path: &[&str]) -> Option<&'a str> {
        self.find(path).map(|e| e.text())
    }

    /// The trimmed, non-empty text at `path`, or [`XmlError::Missing`] /
    /// [`XmlError::Invalid`] naming the path.
    ///
    /// ```
    /// use aws_session::aws::xml::{Document, XmlError};
    /// let doc = Document::parse("<r><a/></r>").unwrap();
    /// assert!(matches!(doc.root().require_text(&["b"]), Err(XmlError::Missing { .. })));
    /// assert!(matches!(doc.root().require_text(&["a"]), Err(XmlError::Invalid { .. })));
    /// ```
    pub fn require_text(&self, path: &[&str]) -> Result<&'a str, XmlError> {
        match self.text_at(path) {
            None => Err(XmlError::Missing {
                path: path_string(path),
            }),
            Some("") => Err(XmlError::Invalid {
                path: path_string(path),
                reason: "is empty".to_string(),
            }),
            Some(t) => Ok(t),
        }
    }
}

/// An AWS error document, read by [`parse_error_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAwsError {
    /// The error code, e.g. `AccessDenied`.
    pub code: String,
    /// The message (empty when AWS sent none).
    pub message: String,
    /// The request id, when there is one.
    pub request_id: Option<String>,
}

/// Read an AWS error document; `None` when `body` is not one (HTML page, empty, ...).
///
/// Accepts `<ErrorResponse><Error>…</Error><RequestId/></ErrorResponse>` (Query API),
/// `<ErrorResponse><Errors><Error>…` and `<Response><Errors><Error>…<RequestID/>`
/// (EC2 style, also what moto sends for auth failures), and a bare `<Error>` root.
///
/// ```
/// let body = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
///             <Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
/// let e = aws_session::aws::xml::parse_error_response(body).unwrap();
/// assert_eq!((e.code.as_str(), e.message.as_str()), ("Throttling", "Rate exceeded"));
/// assert_eq!(e.request_id.as_deref(), Some("r-1"));
/// ```
pub fn parse_error_response(body: &str) -> Option<ParsedAwsError> {
    let doc = Document::parse(body).ok()?;
    let root = doc.root();
    let error = match root.name() {
        "Error" => root,
        "ErrorResponse" | "Response" => root
            .child("Error")
            .or_else(|| root.find(&["Errors", "Error"]))?,
        _ => return None,
    };
    let code = error.text_at(&["Code"]).filter(|c| !c.is_empty())?;
    let message = error
        .text_at(&["Message"])
        .or_else(|| error.text_at(&["message"]))
        .unwrap_or("");
    let request_id = [
        root.text_at(&["RequestId"]),
        root.text_at(&["RequestID"]),
        root.text_at(&["ResponseMetadata", "RequestId"]),
        error.text_at(&["RequestId"]),
    ]
    .into_iter()
    .flatten()
    .find(|s| !s.is_empty())
    .map(printable);
    Some(ParsedAwsError {
        code: printable(code),
        message: printable_line(message),
        request_id,
    })
}

fn looks_like_html(trimmed: &str) -> bool {
    let head: String = trimmed
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn html_error(body: &str) -> XmlError {
    XmlError::Html {
        title: html_title(body),
    }
}

/// The text of the first `<title>` of an HTML page, whitespace collapsed, at most 80 chars.
fn html_title(body: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets, so indexes found in `lower` are valid in `body`.
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower.get(open..)?.find('>')? + 1;
    let len = lower.get(start..)?.find("</title")?;
    let raw = body.get(start..start + len)?;
    let title: String = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(80)
        .collect();
    (!title.is_empty()).then(|| printable(&title))
}

fn local_name(e: &BytesStart<'_>) -> String {
    printable(&String::from_utf8_lossy(e.local_name().as_ref()))
}

fn malformed(e: impl fmt::Display) -> XmlError {
    XmlError::Malformed {
        detail: printable(&e.to_string()),
    }
}

/// The error for a failed read of the next event, `open` being the open elements.
fn event_error(e: QxError, nodes: &[Node], open: &[usize]) -> XmlError {
    let truncated = || XmlError::Truncated {
        inside: open
            .last()
            .and_then(|&i| nodes.get(i))
            .map(|n| n.name.clone()),
    };
    match e {
        QxError::Syntax(_) => truncated(),
        QxError::IllFormed(IllFormedError::UnclosedReference) => truncated(),
        QxError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            XmlError::Malformed {
                detail: format!("<{expected}> is closed by </{found}>"),
            }
        }
        QxError::IllFormed(IllFormedError::UnmatchedEndTag(tag)) => XmlError::Malformed {
            detail: format!("</{tag}> closes no open element"),
        },
        e => malformed(e),
    }
}

/// The text of a character or entity reference (`&#65;`, `&amp;`).
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<String, XmlError> {
    match r.resolve_char_ref() {
        Ok(Some(ch)) => Ok(ch.to_string()),
        Ok(None) => {
            let name = r.decode().map_err(malformed)?;
            match quick_xml::escape::resolve_xml_entity(&name) {
                Some(s) => Ok(s.to_string()),
                None => Err(XmlError::Malformed {
                    detail: format!("unknown entity &{name};"),
                }),
            }
        }
        Err(e) => Err(malformed(e)),
    }
}

/// Build the arena from the events of `body` (which starts with `<` after whitespace).
fn parse_tree(body: &str) -> Result<Document, XmlError> {
    let mut reader = Reader::from_str(body);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut nodes: Vec<Node> = Vec::new();
    // Indexes of the open elements, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut root: Option<usize> = None;

    let truncated = |nodes: &Vec<Node>, open: &Vec<usize>| XmlError::Truncated {
        inside: open
            .last()
            .and_then(|&i| nodes.get(i))
            .map(|n| n.name.clone()),
    };

    loop {
        let event = reader
            .read_event()
            .map_err(|e| event_error(e, &nodes, &open))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = local_name(e);
                if open.is_empty() {
                    if root.is_some() {
                        return Err(XmlError::Malformed {
                            detail: format!("a second root element <{name}>"),
                        });
                    }
                    if name.eq_ignore_ascii_case("html") {
                        return Err(html_error(body));
                    }
                }
                let idx = nodes.len();
                nodes.push(Node {
                    name,
                    text: String::new(),
                    children: Vec::new(),
                });
                match open.last() {
                    Some(&parent) => {
                        if let Some(p) = nodes.get_mut(parent) {
                            p.children.push(idx);
                        }
                    }
                    None => root = Some(idx),
                }
                if !is_empty {
                    open.push(idx);
                }
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches the open element.
                open.pop();
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(malformed)?;
                push_text(&mut nodes, &open, &text, root.is_some())?;
            }
            Event::CData(c) => {
                let text = c.xml10_content().map_err(malformed)?;
                push_text(&mut nodes, &open, &text, root.is_some())?;
            }
            Event::GeneralRef(r) => {
                let resolved = resolve_reference(&r)?;
                push_text(&mut nodes, &open, &resolved, root.is_some())?;
            }
            Event::DocType(d) => {
                let text = d.decode().map_err(malformed)?;
                if text.trim_start().to_ascii_lowercase().starts_with("html") {
                    return Err(html_error(body));
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(truncated(&nodes, &open));
    }
    match root {
        Some(root) => Ok(Document { nodes, root }),
        None => Err(XmlError::Truncated { inside: None }),
    }
}

/// Append text to the innermost open element; text outside the root must be blank.
fn push_text(
    nodes: &mut [Node],
    open: &[usize],
    text: &str,
    seen_root: bool,
) -> Result<(), XmlError> {
    match open.last().and_then(|&i| nodes.get_mut(i)) {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None if seen_root => Err(XmlError::Malformed {
            detail: "text after the root element".to_string(),
        }),
        None => Err(XmlError::NotXml {
            looks_like: "text before any element",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> XmlError {
        match Document::parse(body) {
            Ok(doc) => panic!("parsed as <{}>", doc.root().name()),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_paths_ignoring_namespaces() {
        let doc = Document::parse_expecting(
            r#"<?xml version="1.0"?>
            <x:R xmlns:x="https://sts.amazonaws.com/doc/2011-06-15/">
              <x:A><B> one </B><B>two</B></x:A>
              <C><![CDATA[a<b]]> &amp; &#x41;&#66;&quot;</C>
            </x:R>"#,
            "R",
        )
        .unwrap();
        let r = doc.root();
        assert_eq!(r.text_at(&["A", "B"]), Some("one"));
        let bs: Vec<_> = r
            .find(&["A"])
            .unwrap()
            .children("B")
            .map(|e| e.text())
            .collect();
        assert_eq!(bs, ["one", "two"]);
        assert_eq!(r.text_at(&["C"]), Some("a<b & AB\""));
        assert_eq!(r.text_at(&["Nope"]), None);
        assert_eq!(
            r.require_text(&["A", "Z"]),
            Err(XmlError::Missing {
                path: "<A><Z>".into()
            })
        );
    }

    #[test]
    fn wrong_root_is_named() {
        let e = Document::parse_expecting("<Foo/>", "GetSessionTokenResponse").unwrap_err();
        assert_eq!(
            e.to_string(),
            "root element <Foo>, expected <GetSessionTokenResponse>"
        );
    }

    #[test]
    fn classifies_bad_bodies() {
        assert_eq!(err(""), XmlError::Empty);
        assert_eq!(err(" \r\n\t"), XmlError::Empty);
        assert_eq!(err("\u{feff}"), XmlError::Empty);
        assert!(matches!(
            err("Service Unavailable"),
            XmlError::NotXml { .. }
        ));
        assert!(matches!(
            err(r#"{"message":"Forbidden"}"#),
            XmlError::NotXml {
                looks_like: "a JSON document"
            }
        ));
        assert!(matches!(err("<a>"), XmlError::Truncated { inside: Some(n) } if n == "a"));
        assert!(matches!(err("<a><b>x</b"), XmlError::Truncated { .. }));
        assert!(matches!(err("<a><b att='x"), XmlError::Truncated { .. }));
        assert!(matches!(err("<a>x &am"), XmlError::Truncated { .. }));
        assert!(matches!(
            err("<?xml version='1.0'?>"),
            XmlError::Truncated { .. }
        ));
        assert!(matches!(err("<a></b>"), XmlError::Malformed { .. }));
        assert!(matches!(err("<a/><b/>"), XmlError::Malformed { .. }));
        assert!(matches!(err("<a/>junk"), XmlError::Malformed { .. }));
        assert!(matches!(err("<a>&nbsp;</a>"), XmlError::Malformed { .. }));
        assert!(matches!(err("<a>&#0;</a>"), XmlError::Malformed { .. }));
        assert!(matches!(
            err("<html><body>x</body></html>"),
            XmlError::Html { title: None }
        ));
        assert!(matches!(
            err("<?xml version='1.0'?><!DOCTYPE html><html/>"),
            XmlError::Html { .. }
        ));
    }

    #[test]
    fn html_titles() {
        let e = err("<!DOCTYPE html>\n<HTML><HEAD><TITLE>\n  503 Service\n Unavailable </TITLE>");
        assert_eq!(
            e,
            XmlError::Html {
                title: Some("503 Service Unavailable".into())
            }
        );
        assert_eq!(e.to_string(), "an HTML page (\"503 Service Unavailable\")");
        // Multi-byte text around the title must not trip byte indexing.
        let e = err("<html><title>é ü 💥</title><p>ÄÖ<br></p></html>");
        assert_eq!(
            e,
            XmlError::Html {
                title: Some("é ü 💥".into())
            }
        );
    }

    #[test]
    fn messages_never_hold_text() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
        let bodies = [
            format!("<R><Secret>{secret}"),
            format!("<R><Secret>{secret}</Other></R>"),
            format!("<R><Secret>{secret}</Secret>&bogus;</R>"),
        ];
        for body in bodies {
            let e = err(&body);
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(!format!("{e:?}").contains(secret), "{e:?}");
        }
    }

    #[test]
    fn error_response_shapes() {
        let query = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>No &amp; no</Message></Error>
          <RequestId>abc</RequestId></ErrorResponse>"#;
        let e = parse_error_response(query).unwrap();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(e.message, "No & no");
        assert_eq!(e.request_id.as_deref(), Some("abc"));

        let ec2 = "<Response><Errors><Error><Code>X</Code><Message>m</Message></Error></Errors>\
                   <RequestID>r</RequestID></Response>";
        let e = parse_error_response(ec2).unwrap();
        assert_eq!((e.code.as_str(), e.request_id.as_deref()), ("X", Some("r")));

        let bare = "<Error><Code>Y</Code><RequestId>q</RequestId></Error>";
        let e = parse_error_response(bare).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("Y", ""));
        assert_eq!(e.request_id.as_deref(), Some("q"));

        for not_error in [
            "",
            "<html><title>502</title></html>",
            "<ErrorResponse><Error><Code></Code></Error></ErrorResponse>",
            "<ErrorResponse><Error><Message>m</Message></Error></ErrorResponse>",
            "<GetSessionTokenResponse/>",
            "<ErrorResponse><Error><Code>X</Code>",
        ] {
            assert_eq!(parse_error_response(not_error), None, "{not_error}");
        }
    }

    #[test]
    fn deep_and_wide_documents_are_linear_and_safe() {
        // 1 MiB of nesting: no recursion anywhere, so no stack overflow.
        let depth = 1024 * 1024 / 7;
        let deep = "<a>".repeat(depth) + &"</a>".repeat(depth);
        let doc = Document::parse(&deep).unwrap();
        assert_eq!(doc.root().name(), "a");
        // Unclosed nesting is truncation.
        assert!(matches!(
            Document::parse(&"<a>".repeat(depth)),
            Err(XmlError::Truncated { .. })
        ));
        // A wide document and one long text made of many entity references.
        let wide = format!("<r>{}</r>", "<m>x</m>".repeat(120_000));
        let doc = Document::parse(&wide).unwrap();
        assert_eq!(doc.root().children("m").count(), 120_000);
        let refs = format!("<r>{}</r>", "&amp;".repeat(200_000));
        let doc = Document::parse(&refs).unwrap();
        assert_eq!(doc.root().text().len(), 200_000);
        assert!(parse_error_response(&refs).is_none());
    }

    #[test]
    fn into_error_names_the_action() {
        let e = XmlError::Truncated { inside: None }.into_error("AssumeRole");
        assert_eq!(e.exit_code(), crate::error::exit::NETWORK);
        assert!(e
            .to_string()
            .starts_with("AssumeRole answered with an unusable document: "));
    }
}
