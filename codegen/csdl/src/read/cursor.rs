//! A thin layer over quick-xml's streaming reader: elements with their namespace class (bindings are
//! tracked here, so a reader can resume mid-document) and byte span, text with entity references
//! resolved, and errors mapped to [`Error`] with a span.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, ErrorKind, Warning};
use crate::hash::FastSet;
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
    /// The local name (after any prefix), looked up once: handlers match on it repeatedly.
    pub local: &'i str,
    pub span: Span,
    /// `<x/>`: no children and no end tag follow.
    pub empty: bool,
}

impl<'i> Tag<'i> {
    /// The local name (without prefix).
    pub fn local(&self) -> &'i str {
        self.local
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

/// A namespace prefix bound by an `xmlns` / `xmlns:p` attribute, in scope below element `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<'i> {
    level: usize,
    prefix: &'i str,
    ns: Ns,
}

/// Where a reader stands: the open elements (qualified names) and the namespace bindings in scope.
/// A reader can be resumed from a context taken from another (see [`Cursor::resume`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context<'i> {
    pub open: Vec<&'i str>,
    bindings: Vec<Binding<'i>>,
}

/// The reader over one document (or, for a parallel parse, over a part of one).
pub struct Cursor<'i> {
    reader: Reader<&'i [u8]>,
    /// The whole document; spans are offsets into it.
    source: &'i str,
    /// Offset of the reader's input within `source`.
    base: usize,
    context: Context<'i>,
    depth: usize,
    /// When set, the end of input ends every open element quietly (the first part of a parallel
    /// parse); the context at that point is kept in `stopped`.
    stop_at_eof: bool,
    stopped: Option<Context<'i>>,
    /// Annotation terms and enum-member values repeat by the hundred thousand in F&O metadata: one
    /// shared allocation each.
    interned: RefCell<FastSet<Arc<str>>>,
    /// The first attribute of each undeclared namespace prefix (`sap:content-version` without
    /// `xmlns:sap`): accepted, as real services send them, and reported once per prefix.
    undeclared: Vec<(&'i str, Warning)>,
}

/// Deeper nesting than this is refused: real CSDL nests a dozen levels; a bound keeps the recursive
/// reader's stack small on hostile input.
pub const MAX_DEPTH: usize = 200;

impl<'i> Cursor<'i> {
    /// A reader over the whole of `source`.
    pub fn new(source: &'i str) -> Self {
        Cursor::over(source, 0, source.len(), Context::default(), 0)
    }

    /// A reader over `source[base..end]` that starts inside the elements of `context`, at element
    /// nesting `depth`.
    pub fn resume(source: &'i str, base: usize, end: usize, context: Context<'i>, depth: usize) -> Self {
        Cursor::over(source, base, end, context, depth)
    }

    fn over(source: &'i str, base: usize, end: usize, context: Context<'i>, depth: usize) -> Self {
        // Skip a byte-order mark here, so that positions stay offsets into `source`.
        let base = if source[base..end].starts_with('\u{feff}') {
            base + 3
        } else {
            base
        };
        let mut reader = Reader::from_str(&source[base..end]);
        let config = reader.config_mut();
        // End tags are matched here, against `context.open`, so a resumed reader can close elements
        // it did not see open.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        Cursor {
            reader,
            source,
            base,
            context,
            depth,
            stop_at_eof: false,
            stopped: None,
            undeclared: Vec::new(),
            interned: RefCell::new(FastSet::with_capacity_and_hasher(4096, Default::default())),
        }
    }

    /// Makes the end of input close every open element quietly (see [`Cursor::stopped`]).
    pub fn stop_at_eof(&mut self) {
        self.stop_at_eof = true;
    }

    /// Whether the reader stopped at the end of its input with elements still open, and where.
    pub fn stopped(&self) -> Option<&Context<'i>> {
        self.stopped.as_ref()
    }

    pub(crate) fn quiet_eof(&mut self) -> bool {
        if self.stop_at_eof && self.stopped.is_none() {
            self.stopped = Some(self.context.clone());
        }
        self.stop_at_eof
    }

    /// Moves the warnings out, in document order.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.undeclared)
            .into_iter()
            .map(|(_, warning)| warning)
            .collect()
    }

    /// Moves the warnings out with their prefixes.
    pub fn take_undeclared(&mut self) -> Vec<(&'i str, Warning)> {
        std::mem::take(&mut self.undeclared)
    }

    /// The current context.
    pub fn context(&self) -> &Context<'i> {
        &self.context
    }

    /// A shared copy of `text`.
    pub fn intern(&self, text: &str) -> Arc<str> {
        let mut set = self.interned.borrow_mut();
        if let Some(found) = set.get(text) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        set.insert(shared.clone());
        shared
    }

    pub fn source(&self) -> &'i str {
        self.source
    }

    fn position(&self) -> usize {
        self.base + usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX / 2)
    }

    fn xml_error(&self, err: quick_xml::Error) -> Error {
        let at = self.base + usize::try_from(self.reader.error_position()).unwrap_or(0);
        let end = self.position().max(at + 1).min(self.source.len());
        Error::new(
            ErrorKind::Xml(err.to_string()),
            Span::new(at.min(self.source.len()), end),
        )
    }

    /// Binds the namespaces declared on `start` at `level` and classifies its name.
    fn open_element(&mut self, start: &BytesStart<'i>, level: usize, span: Span) -> Result<Ns, Error> {
        if declares_namespace(start.attributes_raw()) {
            for attr in start.attributes() {
                let attr = attr.map_err(|e| Error::new(ErrorKind::Xml(e.to_string()), span))?;
                let key = attr.key.into_inner();
                let prefix = if key == "xmlns" {
                    ""
                } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                    prefix
                } else {
                    continue;
                };
                let uri = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| Error::new(ErrorKind::Xml(e.to_string()), span))?;
                // `prefix` borrows the input, which outlives the reader.
                let prefix: &'i str = borrow_input(self.source, prefix).unwrap_or("");
                self.context.bindings.push(Binding {
                    level,
                    prefix,
                    ns: classify(&uri),
                });
            }
        }
        if memchr::memchr(b':', start.attributes_raw().as_bytes()).is_some() {
            self.check_attribute_prefixes(start);
        }
        let name = start.name().into_inner();
        let prefix = match memchr::memchr(b':', name.as_bytes()) {
            Some(colon) => &name[..colon],
            None => "",
        };
        let binding = if prefix.is_empty() {
            self.context.bindings.iter().rev().find(|b| b.prefix.is_empty())
        } else {
            self.context.bindings.iter().rev().find(|b| b.prefix == prefix)
        };
        match binding {
            Some(binding) => Ok(binding.ns),
            None if prefix.is_empty() || prefix == "xml" => Ok(Ns::Other),
            None => Err(Error::new(
                ErrorKind::Xml(format!("namespace prefix `{prefix}` of <{name}> is not declared")),
                span,
            )),
        }
    }

    /// Notes attributes whose prefix no `xmlns:p` in scope declares. XML namespaces forbid them, but
    /// SAP and other services send `sap:` attributes without the declaration; an attribute that is
    /// not CSDL's is skipped anyway, so it is accepted with a warning (once per prefix).
    fn check_attribute_prefixes(&mut self, start: &BytesStart<'i>) {
        for attr in start.attributes().with_checks(false).flatten() {
            let key = attr.key.into_inner();
            let Some((prefix, _)) = key.split_once(':') else {
                continue;
            };
            if prefix == "xmlns"
                || prefix == "xml"
                || self.context.bindings.iter().any(|b| b.prefix == prefix)
                || self.undeclared.iter().any(|(p, _)| *p == prefix)
            {
                continue;
            }
            let (Some(prefix), Some(name)) =
                (borrow_input(self.source, prefix), borrow_input(self.source, key))
            else {
                continue;
            };
            let at = name.as_ptr() as usize - self.source.as_ptr() as usize;
            let attribute = Span::new(at, at + name.len());
            let element = start.name().into_inner();
            self.undeclared.push((
                prefix,
                Warning {
                    message: format!(
                        "namespace prefix `{prefix}` of attribute `{name}` on <{element}> is not declared (no `xmlns:{prefix}` in scope); attributes with this prefix are ignored"
                    ),
                    source_index: 0,
                    span: attribute,
                },
            ));
        }
    }

    fn close_level(&mut self, level: usize) {
        while self.context.bindings.last().is_some_and(|b| b.level >= level) {
            self.context.bindings.pop();
        }
    }

    /// The next element, end tag, text run or end of input. Comments, processing instructions, the XML
    /// declaration and a DOCTYPE are skipped; entities declared in a DOCTYPE are never expanded (a
    /// reference to one is an error).
    pub fn next(&mut self) -> Result<Item<'i>, Error> {
        loop {
            let before = self.position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(err) => return Err(self.xml_error(err)),
            };
            let span = Span::new(before, self.position());
            return Ok(match event {
                Event::Start(start) => {
                    let level = self.context.open.len() + 1;
                    let ns = self.open_element(&start, level, span)?;
                    let name = borrow_input(self.source, start.name().into_inner()).unwrap_or("?");
                    self.context.open.push(name);
                    Item::Open(Tag {
                        ns,
                        local: local_part(name),
                        start,
                        span,
                        empty: false,
                    })
                }
                Event::Empty(start) => {
                    let level = self.context.open.len() + 1;
                    let ns = self.open_element(&start, level, span)?;
                    self.close_level(level);
                    let name = borrow_input(self.source, start.name().into_inner()).unwrap_or("?");
                    Item::Open(Tag {
                        ns,
                        local: local_part(name),
                        start,
                        span,
                        empty: true,
                    })
                }
                Event::End(end) => {
                    let name = end.name().into_inner();
                    match self.context.open.pop() {
                        Some(open) if open == name => {}
                        Some(open) => {
                            return Err(Error::new(
                                ErrorKind::Xml(format!(
                                    "end tag </{name}> does not match the open element <{open}>"
                                )),
                                span,
                            ));
                        }
                        None => {
                            return Err(Error::new(
                                ErrorKind::Xml(format!("end tag </{name}> has no matching start tag")),
                                span,
                            ));
                        }
                    }
                    self.close_level(self.context.open.len() + 1);
                    Item::Close
                }
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

    /// Attributes of `tag` as (local name, normalized value), skipping namespace declarations; lazily,
    /// without collecting them.
    pub fn attributes<'t>(&self, tag: &'t Tag<'i>) -> Attributes<'t, 'i> {
        Attributes {
            inner: tag.start.attributes(),
            tag,
            source: self.source,
        }
    }

    /// The span of attribute `name`'s value inside `tag`, or the tag's span when it cannot be found.
    pub fn attribute_span(&self, tag: &Tag<'_>, name: &str) -> Span {
        SpanFinder { source: self.source }.attribute_span(tag, name)
    }
}

impl SpanFinder<'_> {
    fn attribute_span(&self, tag: &Tag<'_>, name: &str) -> Span {
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
}

impl<'i> Cursor<'i> {
    /// Text of `tag` up to its end tag; a child element is an error.
    pub fn text_content(&mut self, tag: &Tag<'i>) -> Result<Cow<'i, str>, Error> {
        let mut text: Cow<'i, str> = Cow::Borrowed("");
        if tag.empty {
            return Ok(text);
        }
        loop {
            match self.next()? {
                // One text run (the usual case) is borrowed from the input, not copied.
                Item::Text(t, _) if text.is_empty() => text = t,
                Item::Text(t, _) => text.to_mut().push_str(&t),
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

    /// Like [`Cursor::children`], for an element whose content the reader is already in.
    pub fn children_inner(
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
                    if self.quiet_eof() {
                        return Ok(());
                    }
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

fn classify(uri: &str) -> Ns {
    match uri {
        EDMX_NS => Ns::Edmx,
        EDM_NS => Ns::Edm,
        LEGACY_EDMX_NS => Ns::LegacyEdmx,
        other if other.starts_with("http://schemas.microsoft.com/ado/") && other.ends_with("/edm") => {
            Ns::LegacyEdm
        }
        _ => Ns::Other,
    }
}

/// Whether raw attribute text may hold an `xmlns` declaration (attribute values seldom contain an `x`).
fn declares_namespace(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    memchr::memchr_iter(b'x', bytes).any(|at| bytes[at..].starts_with(b"xmlns"))
}

/// The part of a qualified name after its prefix.
fn local_part(name: &str) -> &str {
    match memchr::memchr(b':', name.as_bytes()) {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// `part` as a slice of `source` when it lies inside it (names borrowed from the input, which the
/// reader's events already are, keep the input's lifetime).
fn borrow_input<'i>(source: &'i str, part: &str) -> Option<&'i str> {
    let start = (part.as_ptr() as usize).checked_sub(source.as_ptr() as usize)?;
    source.get(start..start + part.len())
}

/// Iterator over the attributes of a tag (see [`Cursor::attributes`]).
pub struct Attributes<'t, 'i> {
    inner: quick_xml::events::attributes::Attributes<'t>,
    tag: &'t Tag<'i>,
    source: &'i str,
}

impl<'t> Iterator for Attributes<'t, '_> {
    type Item = Result<(&'t str, Cow<'t, str>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let attr = match self.inner.next()? {
                Ok(attr) => attr,
                Err(e) => {
                    return Some(Err(Error::new(ErrorKind::Xml(e.to_string()), self.tag.span)));
                }
            };
            let key = attr.key.into_inner();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let local = attr.key.local_name().into_inner();
            return Some(match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(value) => Ok((local, value)),
                Err(e) => {
                    let cursor_like = SpanFinder { source: self.source };
                    Err(Error::new(
                        ErrorKind::Xml(format!("in attribute `{local}`: {e}")),
                        cursor_like.attribute_span(self.tag, local),
                    ))
                }
            });
        }
    }
}

/// Finds attribute spans in the source text.
struct SpanFinder<'i> {
    source: &'i str,
}
