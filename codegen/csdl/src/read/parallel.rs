//! Reading a large document on two threads.
//!
//! A real F&O `$metadata` is one `Schema` with thousands of children. The document is cut in two just
//! before a schema child's start tag near the middle; the first half is read as usual until its input
//! ends (every element still open then is closed quietly), the second half is read from the cut with
//! the open elements and namespace bindings of the first `Schema` as its starting context. The two
//! readings are joined only when the first half stopped exactly inside a `Schema` with that same
//! context, and both read without error; otherwise (a cut inside a comment, a different namespace
//! context, any error) the document is read again sequentially, so results and error messages never
//! depend on the split.

use quick_xml::events::BytesStart;

use super::cursor::{Context, Cursor, Item, Ns, Tag};
use super::reader::{expect_end_of_document, parse_with, read_reference, read_schema, schema_child};
use crate::error::{Error, ErrorKind, Warning};
use crate::span::Span;
use crate::syntax::{Document, Reference, Schema};

/// Documents smaller than this are read on one thread: below it, measured on `crm_schema.xml` (4 MB),
/// the second thread costs about what it saves.
pub const MIN_BYTES: usize = 6 << 20;

/// Schema children that are good places to cut before.
const CUT_BEFORE: [&str; 3] = ["<EntityType ", "<EnumType ", "<ComplexType "];

/// Reads `source` in two halves; `None` when it cannot be split safely or either half fails.
pub(super) fn parse(source: &str) -> Option<Document> {
    let (seed, schema_span, seed_end) = first_schema_context(source)?;
    let cut = find_cut(source, seed_end)?;
    let (head, tail) = crate::threads::join(
        true,
        || {
            let mut head = Cursor::resume(source, 0, cut, Context::default(), 0);
            head.stop_at_eof();
            let document = parse_with(&mut head).ok();
            let whole_schema_open = head.stopped() == Some(&seed);
            let warnings = head.take_undeclared();
            (document, whole_schema_open, warnings)
        },
        || read_tail(source, cut, seed.clone(), schema_span),
    );
    let (document, whole_schema_open, head_warnings) = head;
    let tail = tail.ok()?;
    let mut document = document?;
    if !whole_schema_open {
        return None;
    }
    let (rest_of_schema, more_schemas, more_references, tail_warnings) = tail;
    let schema = document.schemas.last_mut()?;
    merge(schema, rest_of_schema);
    document.schemas.extend(more_schemas);
    document.references.extend(more_references);
    // Once per prefix, as a sequential read reports it: the tail's first use only when the head had none.
    let tail_warnings: Vec<_> = tail_warnings
        .into_iter()
        .filter(|(prefix, _)| !head_warnings.iter().any(|(p, _)| p == prefix))
        .collect();
    document.warnings = head_warnings
        .into_iter()
        .chain(tail_warnings)
        .map(|(_, warning)| warning)
        .collect();
    Some(document)
}

/// The open elements and namespace bindings inside the first `Schema`, that schema's start-tag span,
/// and the offset where its first child starts.
fn first_schema_context(source: &str) -> Option<(Context<'_>, Span, usize)> {
    let mut cursor = Cursor::new(source);
    loop {
        match cursor.next().ok()? {
            Item::Open(tag) if tag.ns == Ns::Edm && tag.local() == "Schema" && !tag.empty => {
                if cursor.context().open.len() != 3 {
                    return None;
                }
                return Some((cursor.context().clone(), tag.span, tag.span.end));
            }
            Item::Open(tag) if tag.ns == Ns::Edmx && !tag.empty => {}
            Item::Open(_) | Item::Close | Item::Eof => return None,
            Item::Text(..) => {}
        }
    }
}

/// A cut point: the start of a schema child's tag after the middle of the document.
fn find_cut(source: &str, not_before: usize) -> Option<usize> {
    let mut middle = (source.len() / 2).max(not_before);
    while !source.is_char_boundary(middle) {
        middle += 1;
    }
    let rest = source.get(middle..)?;
    CUT_BEFORE
        .iter()
        .filter_map(|pattern| rest.find(pattern))
        .min()
        .map(|at| middle + at)
}

/// The rest of the first schema, the schemas and references after it, and the warnings with their prefixes.
type Tail<'i> = (Schema, Vec<Schema>, Vec<Reference>, Vec<(&'i str, Warning)>);

/// Reads from `cut` to the end: the rest of the schema, further schemas, and anything after them.
fn read_tail<'i>(
    source: &'i str,
    cut: usize,
    seed: Context<'i>,
    schema_span: Span,
) -> Result<Tail<'i>, Error> {
    let mut cursor = Cursor::resume(source, cut, source.len(), seed, 3);
    let schema_tag = synthetic(Ns::Edm, "Schema", schema_span);
    let mut schema = Schema::default();
    cursor.children_inner(&schema_tag, &mut |cursor, child| {
        schema_child(cursor, &schema_tag, child, &mut schema)
    })?;
    let data_services = synthetic(Ns::Edmx, "edmx:DataServices", schema_span);
    let mut schemas = Vec::new();
    cursor.children_inner(&data_services, &mut |cursor, child| {
        if child.ns == Ns::Edm && child.local() == "Schema" {
            schemas.push(read_schema(cursor, child)?);
            Ok(())
        } else {
            Err(not_here(&child))
        }
    })?;
    let edmx = synthetic(Ns::Edmx, "edmx:Edmx", schema_span);
    let mut references = Vec::new();
    cursor.children_inner(&edmx, &mut |cursor, child| {
        if child.ns == Ns::Edmx && child.local() == "Reference" {
            references.push(read_reference(cursor, child)?);
            Ok(())
        } else {
            Err(not_here(&child))
        }
    })?;
    expect_end_of_document(&mut cursor)?;
    Ok((schema, schemas, references, cursor.take_undeclared()))
}

/// Any error makes the caller read the document sequentially, which reports it properly.
fn not_here(tag: &Tag<'_>) -> Error {
    Error::new(
        ErrorKind::Xml(format!("<{}> after the split point", tag.qualified())),
        tag.span,
    )
}

fn synthetic(ns: Ns, name: &'static str, span: Span) -> Tag<'static> {
    Tag {
        ns,
        local: name.rsplit(':').next().unwrap_or(name),
        start: BytesStart::new(name),
        span,
        empty: false,
    }
}

fn merge(schema: &mut Schema, rest: Schema) {
    schema.entity_types.extend(rest.entity_types);
    schema.complex_types.extend(rest.complex_types);
    schema.enum_types.extend(rest.enum_types);
    schema.type_definitions.extend(rest.type_definitions);
    schema.actions.extend(rest.actions);
    schema.functions.extend(rest.functions);
    schema.terms.extend(rest.terms);
    schema.entity_containers.extend(rest.entity_containers);
    schema.annotation_groups.extend(rest.annotation_groups);
    schema.annotations.extend(rest.annotations);
}
