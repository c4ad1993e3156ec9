//! A thin layer over quick-xml's namespace-aware streaming reader: elements with their namespace class
//! and byte span, text with entity references resolved, and errors mapped to [`Error`] with a span.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::XmlVersion;

use crate::error::{Error, ErrorKind};
use crate::span::Span;

/// The EDMX namespace of OData v4.
pub const EDMX_NS: &str = "http://docs.oasis-open.org/odata/ns/edmx";
/// The EDM (CSDL) namespace of OData v4.
pub const EDM_NS: &str = "http://docs.oasis-open.org/odata/ns/edm";
/// The EDMX namespace of OData v1-v3 (EDMX 1.0).
pub const LEGACY_EDMX_NS: &str = "http://schemas.microsoft.com/ado/2007/06/edmx";

/// Which vocabulary an element belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    Edmx,
    Edm,
    LegacyEdmx,
    /// OData v2/v3 EDM namespaces (`http://schemas.microsoft.com/ado/.../edm`).
    LegacyEdm,
    /// No namespace, or one that CSDL does not define: extension elements that a reader skips.
    Other,
}

/// A start (or empty) tag.
pub struct Tag<'i> {
    pub ns: Ns,
    pub start: BytesStart<'i>,
    pub span: Span,
    /// `<x/>`: no children and no end tag follow.
    pub empty: bool,
}

impl Tag<'_> {
    /// The local name (without prefix).
    pub fn local(&self) -> &str {
        self.start.local_name().into_inner()
    }

    /// The name as written, with its prefix.
    pub fn qualified(&self) -> &str {
        self.start.name().into_inner()
    }
}

/// One step of the document.
pub enum Item<'i> {
    Open(Tag<'i>),
    Close,
    Text(Cow<'i, str>, Span),
    Eof,
}

/// The reader over one document.
pub struct Cursor<'i> {
    reader: NsReader<&'i [u8]>,
    source: &'i str,
    depth: usize,
}

/// Deeper nesting than this is refused: real CSDL nests a dozen levels; a bound keeps the recursive
/// reader's stack small on hostile input.
pub const MAX_DEPTH: usize = 200;

impl<'i> Cursor<'i> {
    pub fn new(source: &'i str) -> Self {
        let mut reader = NsReader::from_str(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        Cursor { reader, source, depth: 0 }
    }

    pub fn source(&self) -> &'i str {
        self.source
    }

    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn xml_error(&self, err: quick_xml::Error) -> Error {
        let at = usize::try_from(self.reader.error_position()).unwrap_or(0);
        let end = self.position().max(at + 1).min(self.source.len());
        Error::new(ErrorKind::Xml(err.to_string()), Span::new(at.min(self.source.len()), end))
    }

    /// The next element, end tag, text run or end of input. Comments, processing instructions, the XML
    /// declaration and a DOCTYPE are skipped; entities declared in a DOCTYPE are never expanded (a
    /// reference to one is an error).
    pub fn next(&mut self) -> Result<Item<'i>, Error> {
        loop {
            let before = self.position();
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok((resolved, event)) => (classify(&resolved), event),
                Err(err) => return Err(self.xml_error(err)),
            };
            let span = Span::new(before, self.position());
            return Ok(match event {
                Event::Start(start) => Item::Open(Tag {
                    ns,
                    start,
                    span,
                    empty: false,
                }),
                Event::Empty(start) => Item::Open(Tag {
                    ns,
                    start,
                    span,
                    empty: true,
                }),
                Event::End(_) => Item::Close,
                Event::Text(text) => Item::Text(text.xml10_content(), span),
                Event::CData(data) => Item::Text(data.xml10_content(), span),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(ch)) => Cow::Owned(ch.to_string()),
                        Ok(None) => {
                            let name = reference.xml10_content();
                            match resolve_predefined_entity(&name) {
                                Some(text) => Cow::Borrowed(text),
                                None => {
                                    return Err(Error::new(
                                        ErrorKind::Xml(format!(
                                            "reference to undeclared entity `&{name};` (only the XML predefined entities are expanded)"
                                        )),
                                        span,
                                    ));
                                }
                            }
                        }
                        Err(err) => return Err(Error::new(ErrorKind::Xml(err.to_string()), span)),
                    };
                    Item::Text(resolved, span)
                }
                Event::Eof => Item::Eof,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
            });
        }
    }

    /// Attributes of `tag` as (local name, normalized value), skipping namespace declarations.
    pub fn attributes<'t>(&self, tag: &'t Tag<'i>) -> Result<Vec<(&'t str, Cow<'t, str>)>, Error> {
        let mut out = Vec::new();
        for attr in tag.start.attributes() {
            let attr = attr.map_err(|e| Error::new(ErrorKind::Xml(e.to_string()), tag.span))?;
            let key = attr.key.into_inner();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let local = attr.key.local_name().into_inner();
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| Error::new(ErrorKind::Xml(format!("in attribute `{local}`: {e}")), self.attribute_span(tag, local)))?;
            out.push((local, value));
        }
        Ok(out)
    }

    /// The span of attribute `name`'s value inside `tag`, or the tag's span when it cannot be found.
    pub fn attribute_span(&self, tag: &Tag<'_>, name: &str) -> Span {
        let text = self.source.get(tag.span.start..tag.span.end).unwrap_or("");
        let bytes = text.as_bytes();
        let mut from = 0;
        while let Some(found) = text[from..].find(name) {
            let at = from + found;
            from = at + name.len();
            let preceded = at > 0 && (bytes[at - 1].is_ascii_whitespace() || bytes[at - 1] == b':');
            let rest = text[from..].trim_start();
            if !preceded || !rest.starts_with('=') {
                continue;
            }
            let after_eq = rest[1..].trim_start();
            let quote_at = text.len() - after_eq.len();
            if let Some(quote) = after_eq.chars().next().filter(|c| *c == '"' || *c == '\'')
                && let Some(close) = after_eq[1..].find(quote)
            {
                let start = tag.span.start + quote_at + 1;
                return Span::new(start, start + close);
            }
        }
        tag.span
    }

    /// Text of `tag` up to its end tag; a child element is an error.
    pub fn text_content(&mut self, tag: &Tag<'i>) -> Result<String, Error> {
        let mut text = String::new();
        if tag.empty {
            return Ok(text);
        }
        loop {
            match self.next()? {
                Item::Text(t, _) => text.push_str(&t),
                Item::Close => return Ok(text),
                Item::Open(child) => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedElement {
                            element: child.qualified().to_string(),
                            parent: tag.qualified().to_string(),
                            hint: String::from(": this element holds text only"),
                        },
                        child.span,
                    ));
                }
                Item::Eof => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedEof {
                            element: tag.qualified().to_string(),
                        },
                        Span::new(self.source.len(), self.source.len()),
                    ));
                }
            }
        }
    }

    /// Enters an element's content; fails when the document nests deeper than [`MAX_DEPTH`].
    pub fn enter(&mut self, tag: &Tag<'_>) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::Xml(format!("elements nest deeper than {MAX_DEPTH} levels")),
                tag.span,
            ));
        }
        Ok(())
    }

    /// Leaves an element entered with [`Cursor::enter`].
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips `tag` and everything in it.
    pub fn skip(&mut self, tag: &Tag<'i>) -> Result<(), Error> {
        if tag.empty {
            return Ok(());
        }
        let mut depth = 1usize;
        loop {
            match self.next()? {
                Item::Open(child) if !child.empty => depth += 1,
                Item::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Item::Eof => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedEof {
                            element: tag.qualified().to_string(),
                        },
                        Span::new(self.source.len(), self.source.len()),
                    ));
                }
                _ => {}
            }
        }
    }

    /// Calls `each` for every child element of `tag` in a CSDL namespace; extension elements of other
    /// namespaces are skipped, whitespace is ignored, other text is an error.
    pub fn children(
        &mut self,
        tag: &Tag<'i>,
        mut each: impl FnMut(&mut Self, Tag<'i>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if tag.empty {
            return Ok(());
        }
        self.enter(tag)?;
        let result = self.children_inner(tag, &mut each);
        self.leave();
        result
    }

    fn children_inner(
        &mut self,
        tag: &Tag<'i>,
        each: &mut impl FnMut(&mut Self, Tag<'i>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        loop {
            match self.next()? {
                Item::Open(child) => {
                    if child.ns == Ns::Other {
                        self.skip(&child)?;
                    } else {
                        each(self, child)?;
                    }
                }
                Item::Close => return Ok(()),
                Item::Text(text, span) => {
                    if !text.trim().is_empty() {
                        let mut shown: String = text.trim().chars().take(40).collect();
                        if shown.len() < text.trim().len() {
                            shown.push('…');
                        }
                        return Err(Error::new(
                            ErrorKind::UnexpectedText {
                                parent: tag.qualified().to_string(),
                                text: shown,
                            },
                            span,
                        ));
                    }
                }
                Item::Eof => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedEof {
                            element: tag.qualified().to_string(),
                        },
                        Span::new(self.source.len(), self.source.len()),
                    ));
                }
            }
        }
    }
}

fn classify(resolved: &ResolveResult<'_>) -> Ns {
    match resolved {
        ResolveResult::Bound(ns) => match ns.into_inner() {
            "http://docs.oasis-open.org/odata/ns/edmx" => Ns::Edmx,
            "http://docs.oasis-open.org/odata/ns/edm" => Ns::Edm,
            "http://schemas.microsoft.com/ado/2007/06/edmx" => Ns::LegacyEdmx,
            other if other.starts_with("http://schemas.microsoft.com/ado/") && other.ends_with("/edm") => Ns::LegacyEdm,
            _ => Ns::Other,
        },
        ResolveResult::Unbound | ResolveResult::Unknown(_) => Ns::Other,
    }
}
