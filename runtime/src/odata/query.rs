//! Typed queries (`$select`, `$filter`, `$orderby`, `$top`, `$count`, `$expand`, paging, F&O company)
//! and keys (by id, by alternate key, F&O composite keys with `dataAreaId`), written as URL text with
//! every value escaped: quotes doubled inside literals, reserved characters percent-encoded.

use std::fmt::Write as _;
use std::marker::PhantomData;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::edm::Guid;
use crate::entity::{Column, Entity, Filter, Literal, SelectColumn};

/// Characters escaped in a key inside a path segment (RFC 3986 `pchar` keeps `'`, `(`, `)`, `=`, `,`).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// Characters escaped in a query option's value (`&`, `+`, `;` and `#` would end or change it).
const QUERY: &AsciiSet = &PATH.add(b'&').add(b'+').add(b';');

/// Percent-encodes text for a path segment.
pub fn encode_path(text: &str) -> String {
    utf8_percent_encode(text, PATH).to_string()
}

/// Percent-encodes text for a query option's value.
pub fn encode_query(text: &str) -> String {
    utf8_percent_encode(text, QUERY).to_string()
}

/// An entity set name checked to be an OData identifier (a name from metadata never becomes URL
/// structure).
pub fn check_identifier(name: &str) -> Result<&str, super::Error> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && name.chars().count() <= 128;
    if ok {
        Ok(name)
    } else {
        Err(super::Error::Invalid(format!(
            "`{}` is not an OData identifier",
            super::error::clean_text(name, &[], 80)
        )))
    }
}

/// The key of one record of `E`: `(guid)`, `('x')`, or named parts `(dataAreaId='usmf',CustomerAccount='US-001')`
/// (a composite key or a Dataverse alternate key).
pub struct Key<E> {
    text: String,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Key<E> {
    fn clone(&self) -> Self {
        Key {
            text: self.text.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Key<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.text)
    }
}

impl<E> Key<E> {
    /// The primary key by id (Dataverse tables: the record's Guid).
    pub fn id(id: &Guid) -> Self {
        Key::literal(id)
    }

    /// A single-valued primary key.
    pub fn literal<T: Literal + ?Sized>(value: &T) -> Self {
        Key {
            text: encode_path(&value.literal()),
            _entity: PhantomData,
        }
    }

    /// A key of named parts, started with `column = value` and continued with [`Key::and`].
    pub fn by<T: Literal + ?Sized>(column: Column<E, T>, value: &T) -> Self {
        Key {
            text: format!("{}={}", column.name(), encode_path(&value.literal())),
            _entity: PhantomData,
        }
    }

    /// Adds a named part (composite and alternate keys).
    pub fn and<T: Literal + ?Sized>(mut self, column: Column<E, T>, value: &T) -> Self {
        let _ = write!(self.text, ",{}={}", column.name(), encode_path(&value.literal()));
        self
    }

    /// A key from its text between the parentheses, already percent-encoded (the engine's links).
    #[cfg(feature = "engine")]
    pub(crate) fn from_url_text(text: String) -> Self {
        Key {
            text,
            _entity: PhantomData,
        }
    }

    /// The key as it goes between the parentheses, percent-encoded.
    pub fn as_url_text(&self) -> &str {
        &self.text
    }
}

impl<E: Entity> Key<E> {
    /// `set(key)`, relative to the service root.
    pub fn path(&self) -> String {
        format!("{}({})", E::SET, self.text)
    }
}

/// A read of entity set `E::SET`. Build with the typed methods; the client adds the paging header.
pub struct Query<E> {
    pub(crate) select: Vec<&'static str>,
    pub(crate) filter: Option<String>,
    pub(crate) order_by: Vec<String>,
    pub(crate) top: Option<u64>,
    pub(crate) skip: Option<u64>,
    pub(crate) count: bool,
    pub(crate) expand: Vec<String>,
    pub(crate) page_size: Option<u32>,
    pub(crate) cross_company: bool,
    pub(crate) annotations: Option<String>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Query<E> {
    fn clone(&self) -> Self {
        Query {
            select: self.select.clone(),
            filter: self.filter.clone(),
            order_by: self.order_by.clone(),
            top: self.top,
            skip: self.skip,
            count: self.count,
            expand: self.expand.clone(),
            page_size: self.page_size,
            cross_company: self.cross_company,
            annotations: self.annotations.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Query<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Query({})", self.options())
    }
}

impl<E> Default for Query<E> {
    fn default() -> Self {
        Query {
            select: Vec::new(),
            filter: None,
            order_by: Vec::new(),
            top: None,
            skip: None,
            count: false,
            expand: Vec::new(),
            page_size: None,
            cross_company: false,
            annotations: None,
            _entity: PhantomData,
        }
    }
}

impl<E> Query<E> {
    /// Every record, every column.
    pub fn new() -> Self {
        Query::default()
    }

    /// Reads only these columns (records are partial: an unselected column is absent, not null).
    pub fn select(mut self, columns: &[&dyn SelectColumn<E>]) -> Self {
        self.select.extend(columns.iter().map(|c| c.column_name()));
        self
    }

    /// Adds a condition (several are joined with `and`).
    pub fn filter(mut self, filter: Filter<E>) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter.to_odata().to_string(),
            Some(previous) => format!("({previous}) and ({})", filter.to_odata()),
        });
        self
    }

    /// Sorts ascending by `column` (then by earlier sort columns).
    pub fn order_by<T: ?Sized>(mut self, column: Column<E, T>) -> Self {
        self.order_by.push(column.name().to_string());
        self
    }

    /// Sorts descending by `column`.
    pub fn order_by_desc<T: ?Sized>(mut self, column: Column<E, T>) -> Self {
        self.order_by.push(format!("{} desc", column.name()));
        self
    }

    /// At most `n` records in all.
    pub fn top(mut self, n: u64) -> Self {
        self.top = Some(n);
        self
    }

    /// Skips `n` records (F&O; Dataverse refuses `$skip`).
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = Some(n);
        self
    }

    /// Asks for the total count (`$count=true`), read from the first page.
    pub fn count(mut self) -> Self {
        self.count = true;
        self
    }

    /// Expands a single-valued navigation property one level, optionally with `$select` inside.
    pub fn expand(mut self, navigation: &str, select: &[&str]) -> Self {
        let mut text = navigation.to_string();
        if !select.is_empty() {
            let _ = write!(text, "($select={})", select.join(","));
        }
        self.expand.push(text);
        self
    }

    /// Server-driven paging: `Prefer: odata.maxpagesize=n` (Dataverse 5,000 at most, F&O 10,000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// F&O: read every company (`cross-company=true`).
    pub fn cross_company(mut self) -> Self {
        self.cross_company = true;
        self
    }

    /// `Prefer: odata.include-annotations="…"`, e.g. `OData.Community.Display.V1.FormattedValue` or `*`.
    pub fn include_annotations(mut self, pattern: &str) -> Self {
        self.annotations = Some(pattern.to_string());
        self
    }

    /// True when only `$select` (and paging) is set: what change tracking allows.
    pub(crate) fn is_plain_select(&self) -> bool {
        self.filter.is_none()
            && self.order_by.is_empty()
            && self.top.is_none()
            && self.skip.is_none()
            && self.expand.is_empty()
            && !self.count
    }

    /// The query options, percent-encoded (`$select=a,b&$filter=...`), without the leading `?`.
    pub fn options(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.select.is_empty() {
            parts.push(format!("$select={}", encode_query(&self.select.join(","))));
        }
        if let Some(filter) = &self.filter {
            parts.push(format!("$filter={}", encode_query(filter)));
        }
        if !self.order_by.is_empty() {
            parts.push(format!("$orderby={}", encode_query(&self.order_by.join(","))));
        }
        if let Some(top) = self.top {
            parts.push(format!("$top={top}"));
        }
        if let Some(skip) = self.skip {
            parts.push(format!("$skip={skip}"));
        }
        if self.count {
            parts.push("$count=true".into());
        }
        if !self.expand.is_empty() {
            parts.push(format!("$expand={}", encode_query(&self.expand.join(","))));
        }
        if self.cross_company {
            parts.push("cross-company=true".into());
        }
        parts.join("&")
    }

    /// The `Prefer` header value, if any preference is set.
    pub(crate) fn prefer(&self, extra: Option<&str>) -> Option<String> {
        let mut prefs: Vec<String> = extra.into_iter().map(str::to_string).collect();
        if let Some(n) = self.page_size {
            prefs.push(format!("odata.maxpagesize={n}"));
        }
        if let Some(pattern) = &self.annotations {
            prefs.push(format!(
                "odata.include-annotations=\"{}\"",
                pattern.replace(['"', '\r', '\n'], "")
            ));
        }
        (!prefs.is_empty()).then(|| prefs.join(","))
    }
}

impl<E: Entity> Query<E> {
    /// F&O: the records of one company (`cross-company=true` and `dataAreaId eq 'c'`).
    pub fn company(mut self, company: &str) -> Self {
        let condition = format!("dataAreaId eq {}", company.literal());
        self.filter = Some(match self.filter.take() {
            None => condition,
            Some(previous) => format!("({previous}) and ({condition})"),
        });
        self.cross_company = true;
        self
    }

    /// The path and query relative to the service root: `accounts?$select=...`.
    pub fn path(&self) -> String {
        let options = self.options();
        if options.is_empty() {
            E::SET.to_string()
        } else {
            format!("{}?{options}", E::SET)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::FieldDef;

    struct Customer;
    impl Entity for Customer {
        const SET: &'static str = "CustomersV3";
        const TYPE_NAME: &'static str = "Microsoft.Dynamics.DataEntities.CustomerV3";
        const KEY: &'static [&'static str] = &["dataAreaId", "CustomerAccount"];
        type Columns = ();
        const COLUMNS: &'static () = &();
        const FIELDS: &'static [FieldDef] = &[
            FieldDef::new("dataAreaId", "Edm.String"),
            FieldDef::new("CustomerAccount", "Edm.String"),
            FieldDef::new("Name", "Edm.String"),
        ];
    }
    const DATA_AREA: Column<Customer, String> = Column::new("dataAreaId");
    const ACCOUNT: Column<Customer, String> = Column::new("CustomerAccount");
    const NAME: Column<Customer, String> = Column::new("Name");

    #[test]
    fn keys_are_quoted_and_encoded() {
        let key = Key::by(DATA_AREA, &"usmf".to_string()).and(ACCOUNT, &"O'Brien/#1 ?".to_string());
        assert_eq!(
            key.path(),
            "CustomersV3(dataAreaId='usmf',CustomerAccount='O''Brien%2F%231%20%3F')"
        );
        let id: Guid = "6d1b8a3e-0000-4000-8000-000000000001".parse().unwrap();
        assert_eq!(
            Key::<Customer>::id(&id).as_url_text(),
            "6d1b8a3e-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn queries_are_encoded() {
        let query = Query::<Customer>::new()
            .select(&[&ACCOUNT, &NAME])
            .filter(NAME.eq(&"A&B + C".to_string()))
            .order_by_desc(NAME)
            .top(10)
            .count()
            .company("usmf")
            .page_size(500);
        assert_eq!(
            query.path(),
            "CustomersV3?$select=CustomerAccount,Name&$filter=(Name%20eq%20'A%26B%20%2B%20C')%20and%20(dataAreaId%20eq%20'usmf')&$orderby=Name%20desc&$top=10&$count=true&cross-company=true"
        );
        assert_eq!(query.prefer(None).as_deref(), Some("odata.maxpagesize=500"));
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("accounts").is_ok());
        assert!(check_identifier("Kunden_Ä1").is_ok());
        assert!(check_identifier("../../etc/passwd").is_err());
        assert!(check_identifier("a b").is_err());
        assert!(check_identifier("").is_err());
    }
}
