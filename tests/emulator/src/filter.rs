//! OData v4 `$filter` and `$orderby` over rows in OData JSON form, as Dataverse and F&O evaluate them.
//!
//! [`parse`] turns the text into an [`Expr`]; [`check`] binds it to the entity's [`Schema`] and refuses
//! what the service answers 400 for; [`evaluate`] runs it on one row without allocating. [`parse_order_by`],
//! [`check_order_by`] and [`compare_rows`] do the same for `$orderby`. Positions are char offsets.
//!
//! Semantics, where the services differ from the letter of OData:
//! - Nulls follow SQL, which both services run on: `p eq null` is true when `p` is null or absent and
//!   `p ne null` when it is not; any other comparison with a null value is false, whatever the operator
//!   (so `p ne 'x'` skips rows where `p` is null). A string function of null is null, `and`/`or`/`not`
//!   are three-valued, and a row matches only when the whole filter is true.
//! - [`Dialect::Dataverse`]: SQL Server's case-insensitive collation makes every string comparison
//!   (`eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`, `contains`, `startswith`, `endswith`) ignore case (Unicode
//!   lowercase, not full case folding; accents still count). Dataverse has only `contains`,
//!   `startswith` and `endswith`: `tolower`/`toupper` are refused.
//! - [`Dialect::FinOps`]: enums take only `eq` and `ne`; a string literal containing `*` on `eq`/`ne` is a
//!   wildcard pattern (`'*x*'` contains, `'x*'` starts with, `'*x'` ends with, `'a*b'` both).
//! - [`Dialect::Generic`]: OData as written (ordinal, case-sensitive strings).
//! - Numbers compare exactly, in base 10, on their text, whatever their size; only a `Double` column
//!   compares through `f64`. Guids compare case-insensitively, date-times as instants (offsets honoured; a
//!   `Date` against a date-time is its midnight UTC), enums by member name (a string literal names one).
//! - `$orderby` sorts nulls first (last when descending), as SQL Server does, and strings ordinally.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};
use time::{Date, OffsetDateTime, Time};

use crate::value::{
    Case, Dec, Text, base64_units, cmp_dec, contains, day_start, digits, ends_with, instant, is_base64,
    parse_date, parse_date_time, parse_duration, parse_guid, parse_time, prefix_len, text_cmp,
    wildcard_match,
};

/// The deepest nesting of parentheses, `not` and function calls the parser accepts.
const MAX_NESTING: usize = 100;
/// The deepest recursion that checking and evaluating a tree may need (a chain of one logical operator,
/// `a or b or c`, is walked in a loop and counts once); bounded so that both fit a 2 MiB thread stack.
const MAX_HEIGHT: usize = 200;
/// The most nodes a tree may have (dropping a chain recurses once per link).
const MAX_NODES: usize = 10_000;

/// The Edm type of a property, as the emulator's schema knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdmKind {
    String,
    Boolean,
    Int,
    Decimal,
    Double,
    Guid,
    Date,
    DateTimeOffset,
    TimeOfDay,
    Duration,
    Binary,
    Enum,
    Other,
}

/// What a filter is checked and evaluated against: the properties of one entity type.
pub trait Schema {
    /// The Edm type of `property`, or `None` when the entity type has no such property.
    fn kind(&self, property: &str) -> Option<EdmKind>;
    /// The qualified type name of an enum property (`Microsoft.Dynamics.DataEntities.NoYes`).
    fn enum_type(&self, _property: &str) -> Option<&str> {
        None
    }
    /// The qualified name of the entity type, for messages (`Microsoft.Dynamics.CRM.account`).
    fn type_name(&self) -> Option<&str> {
        None
    }
}

/// Whose rules apply where the services differ (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Dataverse,
    FinOps,
    Generic,
}

/// Why a `$filter` or `$orderby` was refused; the service answers 400 with [`FilterError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The text is not a well-formed expression.
    #[error("{message}")]
    Syntax { position: usize, message: String },
    /// Well-formed, but it names a property the type lacks or compares values that cannot compare.
    #[error("{message}")]
    Invalid { position: usize, message: String },
    /// Well-formed OData that the emulator, or the dialect's service, does not support.
    #[error("{message}")]
    Unsupported { position: usize, message: String },
}

impl FilterError {
    /// The char offset in the query option's text where the problem is.
    pub fn position(&self) -> usize {
        match self {
            Self::Syntax { position, .. }
            | Self::Invalid { position, .. }
            | Self::Unsupported { position, .. } => *position,
        }
    }

    /// The message, as the service would word it.
    pub fn message(&self) -> &str {
        match self {
            Self::Syntax { message, .. }
            | Self::Invalid { message, .. }
            | Self::Unsupported { message, .. } => message,
        }
    }
}

fn syntax(position: usize, message: String) -> FilterError {
    FilterError::Syntax { position, message }
}

fn invalid(position: usize, message: String) -> FilterError {
    FilterError::Invalid { position, message }
}

fn unsupported(position: usize, message: String) -> FilterError {
    FilterError::Unsupported { position, message }
}

fn syntax_error(text: &str, position: usize) -> FilterError {
    syntax(
        position,
        format!("Syntax error at position {position} in '{text}'."),
    )
}

fn expression_expected(text: &str, position: usize) -> FilterError {
    syntax(
        position,
        format!("Expression expected at position {position} in '{text}'."),
    )
}

// ---------------------------------------------------------------------------------------------------------
// The expression tree
// ---------------------------------------------------------------------------------------------------------

/// A parsed `$filter` expression; every `position` is the char offset of the node's token.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal {
        value: Literal,
        position: usize,
    },
    /// A property of the row (one path segment).
    Property {
        name: String,
        position: usize,
    },
    Not {
        operand: Box<Expr>,
        position: usize,
    },
    Logical {
        op: LogicalOp,
        left: Box<Expr>,
        right: Box<Expr>,
        position: usize,
    },
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
        position: usize,
    },
    /// `operand in (item, ...)`; each item with its position.
    In {
        operand: Box<Expr>,
        items: Vec<(Literal, usize)>,
        position: usize,
    },
    Call {
        function: Function,
        args: Vec<Expr>,
        position: usize,
    },
}

impl Expr {
    /// The char offset of the node's token (an operator's keyword, a function's name).
    pub fn position(&self) -> usize {
        match self {
            Self::Literal { position, .. }
            | Self::Property { position, .. }
            | Self::Not { position, .. }
            | Self::Logical { position, .. }
            | Self::Compare { position, .. }
            | Self::In { position, .. }
            | Self::Call { position, .. } => *position,
        }
    }
}

/// `and` / `or`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
}

impl LogicalOp {
    fn kind_name(self) -> &'static str {
        match self {
            Self::And => "And",
            Self::Or => "Or",
        }
    }
}

/// `eq ne gt ge lt le`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    /// The keyword, as written in a filter.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    fn kind_name(self) -> &'static str {
        match self {
            Self::Eq => "Equal",
            Self::Ne => "NotEqual",
            Self::Gt => "GreaterThan",
            Self::Ge => "GreaterThanOrEqual",
            Self::Lt => "LessThan",
            Self::Le => "LessThanOrEqual",
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Self::Eq | Self::Ne)
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Eq => ordering.is_eq(),
            Self::Ne => ordering.is_ne(),
            Self::Gt => ordering.is_gt(),
            Self::Ge => ordering.is_ge(),
            Self::Lt => ordering.is_lt(),
            Self::Le => ordering.is_le(),
        }
    }
}

/// The string functions both services share (`tolower`/`toupper` are refused by Dataverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Contains,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
}

impl Function {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "contains" => Self::Contains,
            "startswith" => Self::StartsWith,
            "endswith" => Self::EndsWith,
            "tolower" => Self::ToLower,
            "toupper" => Self::ToUpper,
            _ => return None,
        })
    }

    /// The name, as written in a filter.
    pub fn name(self) -> &'static str {
        match self {
            Self::Contains => "contains",
            Self::StartsWith => "startswith",
            Self::EndsWith => "endswith",
            Self::ToLower => "tolower",
            Self::ToUpper => "toupper",
        }
    }

    fn arity(self) -> usize {
        match self {
            Self::Contains | Self::StartsWith | Self::EndsWith => 2,
            Self::ToLower | Self::ToUpper => 1,
        }
    }

    fn signature(self) -> &'static str {
        match self {
            Self::Contains => "contains(Edm.String Nullable=true, Edm.String Nullable=true)",
            Self::StartsWith => "startswith(Edm.String Nullable=true, Edm.String Nullable=true)",
            Self::EndsWith => "endswith(Edm.String Nullable=true, Edm.String Nullable=true)",
            Self::ToLower => "tolower(Edm.String Nullable=true)",
            Self::ToUpper => "toupper(Edm.String Nullable=true)",
        }
    }

    fn no_signature(self, position: usize) -> FilterError {
        invalid(
            position,
            format!(
                "No function signature for the function with name '{}' matches the specified arguments. \
                 The function signatures considered are: {}.",
                self.name(),
                self.signature()
            ),
        )
    }
}

/// A literal value of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Boolean(bool),
    String(String),
    Number(NumberLiteral),
    /// A Guid, as its 128-bit value.
    Guid(u128),
    Date(Date),
    DateTimeOffset(OffsetDateTime),
    TimeOfDay(Time),
    Duration(time::Duration),
    /// `binary'...'`: the base64 text as written.
    Binary(String),
    /// `Namespace.EnumType'Member'`.
    Enum {
        type_name: String,
        member: String,
    },
}

/// A numeric literal: its exact text (sign, digits, fraction, exponent; no type suffix) and its Edm type.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberLiteral {
    text: String,
    kind: NumberKind,
    exact: Option<Exact>,
    float: f64,
}

/// The Edm type of a numeric literal, as OData infers it from the text and suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Int32,
    Int64,
    Decimal,
    Double,
}

impl NumberLiteral {
    fn new(text: &str, kind: NumberKind) -> Self {
        let exact = Dec::parse(text).map(|d| Exact {
            negative: d.negative,
            exponent: d.exponent,
            digits: format!("{}{}", d.hi, d.lo),
        });
        let float = match text {
            "INF" => f64::INFINITY,
            "-INF" => f64::NEG_INFINITY,
            _ => text.parse().unwrap_or(f64::NAN),
        };
        Self {
            text: text.to_owned(),
            kind,
            exact,
            float,
        }
    }

    /// The number's text without its type suffix (`12.5` for `12.5M`; `INF`, `-INF`, `NaN`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The literal's Edm type.
    pub fn kind(&self) -> NumberKind {
        self.kind
    }

    fn edm_name(&self) -> &'static str {
        match self.kind {
            NumberKind::Int32 => "Edm.Int32",
            NumberKind::Int64 => "Edm.Int64",
            NumberKind::Decimal => "Edm.Decimal",
            NumberKind::Double => "Edm.Double",
        }
    }
}

/// A number's value in normalized base-10 form (see [`Dec`]), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exact {
    negative: bool,
    exponent: i64,
    digits: String,
}

impl Exact {
    fn view(&self) -> Dec<'_> {
        Dec {
            negative: self.negative,
            exponent: self.exponent,
            hi: &self.digits,
            lo: "",
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Tok<'t> {
    /// An identifier, keyword, or qualified name (`Microsoft.Dynamics.CRM.Today`).
    Word(&'t str),
    Literal(Literal),
    Open,
    Close,
    Comma,
    End,
}

#[derive(Debug)]
struct Token<'t> {
    tok: Tok<'t>,
    /// Char offset.
    at: usize,
}

struct Lexer<'t> {
    text: &'t str,
    byte: usize,
    char: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'t> Lexer<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            byte: 0,
            char: 0,
        }
    }

    fn rest(&self) -> &'t str {
        self.text.get(self.byte..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.byte += c.len_utf8();
        self.char += 1;
        Some(c)
    }

    /// Skips `n` bytes the caller has checked are ASCII.
    fn skip_ascii(&mut self, n: usize) {
        self.byte += n;
        self.char += n;
    }

    fn next_token(&mut self) -> Result<Token<'t>, FilterError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let at = self.char;
        let Some(c) = self.peek() else {
            return Ok(Token { tok: Tok::End, at });
        };
        let tok = match c {
            '(' | ')' | ',' => {
                self.bump();
                match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Comma,
                }
            }
            '\'' => Tok::Literal(Literal::String(self.quoted(at)?)),
            '-' => self.minus(at)?,
            '@' => {
                return Err(unsupported(
                    at,
                    format!(
                        "Parameter aliases (at position {at} in '{}') are not supported by the emulator; \
                         write the value in place.",
                        self.text
                    ),
                ));
            }
            c if c.is_ascii_digit() || is_ident_start(c) => {
                if let Some(guid) = self.guid() {
                    Tok::Literal(Literal::Guid(guid))
                } else if c.is_ascii_digit() {
                    self.numeric(at)?
                } else {
                    self.word(at)?
                }
            }
            c => {
                return Err(syntax(
                    at,
                    format!(
                        "Syntax error: character '{c}' is not valid at position {at} in '{}'.",
                        self.text
                    ),
                ));
            }
        };
        Ok(Token { tok, at })
    }

    /// A quoted string from the opening quote; `''` is a quote.
    fn quoted(&mut self, at: usize) -> Result<String, FilterError> {
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(syntax(
                        at,
                        format!(
                            "There is an unterminated string literal at position {at} in '{}'.",
                            self.text
                        ),
                    ));
                }
                Some('\'') if self.peek() == Some('\'') => {
                    self.bump();
                    value.push('\'');
                }
                Some('\'') => return Ok(value),
                Some(c) => value.push(c),
            }
        }
    }

    /// A bare Guid (`8-4-4-4-12` hex digits) at the cursor, consumed.
    fn guid(&mut self) -> Option<u128> {
        let rest = self.rest();
        let guid = parse_guid(rest.get(..36)?)?;
        if rest.get(36..)?.chars().next().is_some_and(is_ident_continue) {
            return None;
        }
        self.skip_ascii(36);
        Some(guid)
    }

    fn minus(&mut self, at: usize) -> Result<Tok<'t>, FilterError> {
        let after = self.rest().get(1..).unwrap_or("");
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            return self.numeric(at);
        }
        if let Some(tail) = after.strip_prefix("INF")
            && !tail.starts_with(is_ident_continue)
        {
            self.skip_ascii(4);
            return Ok(Tok::Literal(Literal::Number(NumberLiteral::new(
                "-INF",
                NumberKind::Double,
            ))));
        }
        Err(unsupported(
            at,
            format!(
                "Arithmetic operators ('-' at position {at} in '{}') are not supported by the emulator.",
                self.text
            ),
        ))
    }

    /// A date, date-time, time of day or number, from a digit or a minus sign.
    fn numeric(&mut self, at: usize) -> Result<Tok<'t>, FilterError> {
        let rest = self.rest();
        let b = rest.as_bytes();
        let negative = b.first() == Some(&b'-');
        if !negative && is_date_shape(b) {
            let len = if b.get(10) == Some(&b'T') {
                10 + b
                    .iter()
                    .skip(10)
                    .take_while(|&&c| {
                        c.is_ascii_digit() || matches!(c, b':' | b'.' | b'+' | b'-' | b'T' | b'Z')
                    })
                    .count()
            } else {
                10
            };
            let raw = rest.get(..len).unwrap_or("");
            let literal = if len == 10 {
                parse_date(raw)
                    .map(Literal::Date)
                    .ok_or_else(|| self.unrecognized("Edm.Date", raw, at))?
            } else {
                parse_date_time(raw)
                    .map(|(date, time, offset)| {
                        Literal::DateTimeOffset(OffsetDateTime::new_in_offset(date, time, offset))
                    })
                    .ok_or_else(|| self.unrecognized("Edm.DateTimeOffset", raw, at))?
            };
            self.skip_ascii(len);
            self.boundary()?;
            return Ok(Tok::Literal(literal));
        }
        if !negative && digits(b, 0, 2).is_some() && b.get(2) == Some(&b':') {
            let len = b
                .iter()
                .take_while(|&&c| c.is_ascii_digit() || matches!(c, b':' | b'.'))
                .count();
            let raw = rest.get(..len).unwrap_or("");
            let time = parse_time(raw).ok_or_else(|| self.unrecognized("Edm.TimeOfDay", raw, at))?;
            self.skip_ascii(len);
            self.boundary()?;
            return Ok(Tok::Literal(Literal::TimeOfDay(time)));
        }
        let digits_end = |from: usize| from + b.iter().skip(from).take_while(|c| c.is_ascii_digit()).count();
        let mut end = digits_end(usize::from(negative));
        let (mut dot, mut exponent) = (false, false);
        if b.get(end) == Some(&b'.') {
            let fraction_end = digits_end(end + 1);
            if fraction_end == end + 1 {
                return Err(syntax_error(self.text, at + end + 1));
            }
            end = fraction_end;
            dot = true;
        }
        if matches!(b.get(end), Some(b'e' | b'E')) {
            let mut from = end + 1;
            if matches!(b.get(from), Some(b'+' | b'-')) {
                from += 1;
            }
            let exponent_end = digits_end(from);
            if exponent_end == from {
                return Err(syntax_error(self.text, at + from));
            }
            end = exponent_end;
            exponent = true;
        }
        let text = rest.get(..end).unwrap_or("");
        let suffix = b
            .get(end)
            .map(u8::to_ascii_lowercase)
            .filter(|c| matches!(c, b'm' | b'd' | b'f' | b'l'));
        let kind = match suffix {
            Some(b'm') => NumberKind::Decimal,
            Some(b'd' | b'f') => NumberKind::Double,
            Some(_) if dot || exponent => return Err(syntax_error(self.text, at + end)),
            Some(_) => NumberKind::Int64,
            None if exponent => NumberKind::Double,
            None if dot => NumberKind::Decimal,
            None if text.parse::<i32>().is_ok() => NumberKind::Int32,
            None if text.parse::<i64>().is_ok() => NumberKind::Int64,
            None => NumberKind::Decimal,
        };
        self.skip_ascii(end + usize::from(suffix.is_some()));
        self.boundary()?;
        Ok(Tok::Literal(Literal::Number(NumberLiteral::new(text, kind))))
    }

    /// A literal must not run into the next token (`12abc`, `2024-05-01x`).
    fn boundary(&self) -> Result<(), FilterError> {
        match self.peek() {
            Some(c) if is_ident_continue(c) || matches!(c, '.' | '\'' | ':' | '-') => {
                Err(syntax_error(self.text, self.char))
            }
            _ => Ok(()),
        }
    }

    fn unrecognized(&self, edm: &str, raw: &str, at: usize) -> FilterError {
        syntax(
            at,
            format!(
                "Unrecognized '{edm}' literal '{raw}' at '{at}' in '{}'.",
                self.text
            ),
        )
    }

    fn ident(&mut self) {
        while self.peek().is_some_and(is_ident_continue) {
            self.bump();
        }
    }

    /// An identifier or qualified name, and the typed literal (`duration'P1D'`) it may start.
    fn word(&mut self, at: usize) -> Result<Tok<'t>, FilterError> {
        let start = self.byte;
        self.ident();
        while self.peek() == Some('.')
            && self
                .rest()
                .get(1..)
                .and_then(|r| r.chars().next())
                .is_some_and(is_ident_start)
        {
            self.bump();
            self.ident();
        }
        let word = self.text.get(start..self.byte).unwrap_or("");
        match self.peek() {
            Some('\'') => self.typed_literal(word, start, at),
            Some('/') => {
                while self
                    .peek()
                    .is_some_and(|c| is_ident_continue(c) || matches!(c, '/' | '.'))
                {
                    self.bump();
                }
                let path = self.text.get(start..self.byte).unwrap_or("");
                Err(unsupported(
                    at,
                    format!(
                        "The path '{path}' at position {at} in '{}' goes through a navigation property: \
                         navigation paths are not supported by the emulator.",
                        self.text
                    ),
                ))
            }
            _ => Ok(Tok::Word(word)),
        }
    }

    fn typed_literal(&mut self, word: &str, start: usize, at: usize) -> Result<Tok<'t>, FilterError> {
        let content = self.quoted(self.char)?;
        let raw = self.text.get(start..self.byte).unwrap_or("");
        let literal = match word {
            "duration" => parse_duration(&content)
                .map(Literal::Duration)
                .ok_or_else(|| self.unrecognized("Edm.Duration", raw, at))?,
            "binary" if is_base64(&content) => Literal::Binary(content),
            "binary" => return Err(self.unrecognized("Edm.Binary", raw, at)),
            "geography" | "geometry" => {
                return Err(unsupported(
                    at,
                    format!("Spatial literals ('{raw}' at position {at}) are not supported by the emulator."),
                ));
            }
            "guid" | "datetime" | "datetimeoffset" | "time" | "X" => {
                return Err(syntax(
                    at,
                    format!(
                        "Syntax error at position {at} in '{}': '{raw}' is OData v3 syntax; OData v4 writes \
                         the value bare.",
                        self.text
                    ),
                ));
            }
            _ if word.contains('.') && !content.is_empty() => Literal::Enum {
                type_name: word.to_owned(),
                member: content,
            },
            _ if word.contains('.') => {
                return Err(syntax(
                    at,
                    format!("The string '{raw}' is not a valid enumeration type constant."),
                ));
            }
            _ => return Err(syntax_error(self.text, at)),
        };
        Ok(Tok::Literal(literal))
    }
}

fn is_date_shape(b: &[u8]) -> bool {
    b.len() >= 10
        && b.iter().take(10).enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Words that are operators, never property names, in OData.
fn is_operator_keyword(word: &str) -> bool {
    matches!(
        word,
        "eq" | "ne"
            | "gt"
            | "ge"
            | "lt"
            | "le"
            | "and"
            | "or"
            | "not"
            | "in"
            | "has"
            | "add"
            | "sub"
            | "mul"
            | "div"
            | "divby"
            | "mod"
    )
}

/// The literal a bare word stands for (`true`, `null`, `INF`).
fn keyword_literal(word: &str) -> Option<Literal> {
    Some(match word {
        "true" => Literal::Boolean(true),
        "false" => Literal::Boolean(false),
        "null" => Literal::Null,
        "INF" | "NaN" => Literal::Number(NumberLiteral::new(word, NumberKind::Double)),
        _ => return None,
    })
}

/// " Operators are case-sensitive: write 'eq'." when `tok` is an operator in the wrong case.
fn case_hint(tok: &Tok<'_>) -> String {
    match tok {
        Tok::Word(word) => {
            let lower = word.to_lowercase();
            if lower != *word && is_operator_keyword(&lower) {
                format!(" Operators are case-sensitive: write '{lower}'.")
            } else {
                String::new()
            }
        }
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------

/// An expression and the height of its tree.
struct Parsed {
    expr: Expr,
    height: usize,
}

struct Parser<'t> {
    lexer: Lexer<'t>,
    current: Token<'t>,
    nesting: usize,
    nodes: usize,
}

/// Parses a `$filter` expression (OData v4 URL conventions, as Dataverse and F&O accept them).
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    let mut parser = Parser::new(text)?;
    let parsed = parser.or()?;
    match &parser.current {
        Token { tok: Tok::End, .. } => Ok(parsed.expr),
        Token { tok, at } => Err(syntax(
            *at,
            format!("Syntax error at position {at} in '{text}'.{}", case_hint(tok)),
        )),
    }
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Result<Self, FilterError> {
        let mut lexer = Lexer::new(text);
        let current = lexer.next_token()?;
        Ok(Self {
            lexer,
            current,
            nesting: 0,
            nodes: 0,
        })
    }

    fn text(&self) -> &'t str {
        self.lexer.text
    }

    /// Moves to the next token and returns the one it leaves.
    fn advance(&mut self) -> Result<Token<'t>, FilterError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.current.tok, Tok::Word(w) if w == word)
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(unsupported(
                at,
                format!("The filter is nested more than {MAX_NESTING} levels deep at position {at}."),
            ));
        }
        Ok(())
    }

    fn node(&mut self, expr: Expr, height: usize) -> Result<Parsed, FilterError> {
        self.nodes += 1;
        if height > MAX_HEIGHT || self.nodes > MAX_NODES {
            let at = expr.position();
            return Err(unsupported(
                at,
                format!(
                    "The filter is too complex at position {at}: the emulator takes at most {MAX_HEIGHT} \
                     nested operators and {MAX_NODES} terms."
                ),
            ));
        }
        Ok(Parsed { expr, height })
    }

    fn or(&mut self) -> Result<Parsed, FilterError> {
        self.logical(LogicalOp::Or)
    }

    /// A chain of `or` (of `and`s) or of `and` (of comparisons), nested to the left.
    fn logical(&mut self, op: LogicalOp) -> Result<Parsed, FilterError> {
        let keyword = match op {
            LogicalOp::Or => "or",
            LogicalOp::And => "and",
        };
        let operand = |parser: &mut Self| match op {
            LogicalOp::Or => parser.logical(LogicalOp::And),
            LogicalOp::And => parser.equality(),
        };
        let mut left = operand(self)?;
        while self.at_word(keyword) {
            let position = self.advance()?.at;
            let right = operand(self)?;
            // The evaluator walks a chain of one operator in a loop: only a new chain adds a level.
            let chained = matches!(left.expr, Expr::Logical { op: left_op, .. } if left_op == op);
            let height = (left.height + usize::from(!chained)).max(right.height + 1);
            let expr = Expr::Logical {
                op,
                left: Box::new(left.expr),
                right: Box::new(right.expr),
                position,
            };
            left = self.node(expr, height)?;
        }
        Ok(left)
    }

    fn compare_op(&self, equality: bool) -> Option<CompareOp> {
        match self.current.tok {
            Tok::Word(word) => CompareOp::from_keyword(word).filter(|op| op.is_equality() == equality),
            _ => None,
        }
    }

    /// `eq`/`ne`, which bind looser than `gt ge lt le` in OData.
    fn equality(&mut self) -> Result<Parsed, FilterError> {
        let mut left = self.relational()?;
        while let Some(op) = self.compare_op(true) {
            let position = self.advance()?.at;
            let right = self.relational()?;
            left = self.compare(op, left, right, position)?;
        }
        Ok(left)
    }

    fn relational(&mut self) -> Result<Parsed, FilterError> {
        let mut left = self.unary()?;
        while let Some(op) = self.compare_op(false) {
            let position = self.advance()?.at;
            let right = self.unary()?;
            left = self.compare(op, left, right, position)?;
        }
        Ok(left)
    }

    fn compare(
        &mut self,
        op: CompareOp,
        left: Parsed,
        right: Parsed,
        position: usize,
    ) -> Result<Parsed, FilterError> {
        let height = left.height.max(right.height) + 1;
        self.node(
            Expr::Compare {
                op,
                left: Box::new(left.expr),
                right: Box::new(right.expr),
                position,
            },
            height,
        )
    }

    /// `not` binds tighter than the comparisons: `not a eq b` is `(not a) eq b`, as in OData.
    fn unary(&mut self) -> Result<Parsed, FilterError> {
        if !self.at_word("not") {
            return self.postfix();
        }
        let position = self.advance()?.at;
        self.enter(position)?;
        let operand = self.unary()?;
        self.nesting -= 1;
        self.node(
            Expr::Not {
                operand: Box::new(operand.expr),
                position,
            },
            operand.height + 1,
        )
    }

    fn postfix(&mut self) -> Result<Parsed, FilterError> {
        let mut parsed = self.primary()?;
        loop {
            match self.current.tok {
                Tok::Word("in") => parsed = self.in_list(parsed)?,
                Tok::Word(word @ ("has" | "add" | "sub" | "mul" | "div" | "divby" | "mod")) => {
                    let at = self.current.at;
                    return Err(unsupported(
                        at,
                        format!(
                            "The '{word}' operator at position {at} in '{}' is not supported by the \
                             emulator.",
                            self.text()
                        ),
                    ));
                }
                _ => return Ok(parsed),
            }
        }
    }

    fn primary(&mut self) -> Result<Parsed, FilterError> {
        let Token { tok, at } = self.advance()?;
        match tok {
            Tok::Open => {
                self.enter(at)?;
                let inner = self.or()?;
                match self.advance()? {
                    Token { tok: Tok::Close, .. } => {}
                    Token { tok, at } => {
                        return Err(syntax(
                            at,
                            format!(
                                "')' or operator expected at position {at} in '{}'.{}",
                                self.text(),
                                case_hint(&tok)
                            ),
                        ));
                    }
                }
                self.nesting -= 1;
                Ok(inner)
            }
            Tok::Literal(value) => self.node(Expr::Literal { value, position: at }, 1),
            Tok::Word(word) => {
                if let Some(value) = keyword_literal(word) {
                    return self.node(Expr::Literal { value, position: at }, 1);
                }
                if matches!(self.current.tok, Tok::Open) {
                    return self.call(word, at);
                }
                if word.contains('.') || is_operator_keyword(word) {
                    return Err(expression_expected(self.text(), at));
                }
                self.node(
                    Expr::Property {
                        name: word.to_owned(),
                        position: at,
                    },
                    1,
                )
            }
            Tok::Close | Tok::Comma | Tok::End => Err(expression_expected(self.text(), at)),
        }
    }

    fn call(&mut self, name: &str, at: usize) -> Result<Parsed, FilterError> {
        let Some(function) = Function::from_name(name) else {
            return Err(self.unknown_function(name, at));
        };
        self.advance()?;
        self.enter(at)?;
        let mut args = Vec::new();
        let mut height = 0;
        if matches!(self.current.tok, Tok::Close) {
            self.advance()?;
        } else {
            loop {
                let arg = self.or()?;
                height = height.max(arg.height);
                args.push(arg.expr);
                match self.advance()? {
                    Token { tok: Tok::Comma, .. } => {}
                    Token { tok: Tok::Close, .. } => break,
                    Token { at, .. } => {
                        return Err(syntax(
                            at,
                            format!("')' or ',' expected at position {at} in '{}'.", self.text()),
                        ));
                    }
                }
            }
        }
        self.nesting -= 1;
        if args.len() != function.arity() {
            return Err(function.no_signature(at));
        }
        self.node(
            Expr::Call {
                function,
                args,
                position: at,
            },
            height + 1,
        )
    }

    fn unknown_function(&self, name: &str, at: usize) -> FilterError {
        const CANONICAL: &[&str] = &[
            "length",
            "indexof",
            "substring",
            "concat",
            "trim",
            "matchesPattern",
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "fractionalseconds",
            "totalseconds",
            "totaloffsetminutes",
            "date",
            "time",
            "now",
            "maxdatetime",
            "mindatetime",
            "round",
            "floor",
            "ceiling",
            "cast",
            "isof",
            "case",
            "hassubset",
            "hassubsequence",
        ];
        if CANONICAL.contains(&name) || name.starts_with("geo.") {
            unsupported(
                at,
                format!(
                    "The function '{name}' at position {at} in '{}' is not supported by the emulator.",
                    self.text()
                ),
            )
        } else if name.contains('.') {
            unsupported(
                at,
                format!(
                    "Bound and service functions ('{name}' at position {at} in '{}') are not supported \
                     by the emulator.",
                    self.text()
                ),
            )
        } else {
            invalid(
                at,
                format!(
                    "An unknown function with name '{name}' was found. This may also be a function import or \
                     a key lookup on a navigation property, which is not allowed."
                ),
            )
        }
    }

    fn in_list(&mut self, operand: Parsed) -> Result<Parsed, FilterError> {
        let position = self.advance()?.at;
        let open = self.advance()?;
        if !matches!(open.tok, Tok::Open) {
            return Err(syntax(
                open.at,
                format!("'(' expected at position {} in '{}'.", open.at, self.text()),
            ));
        }
        let mut items = Vec::new();
        loop {
            let Token { tok, at } = self.advance()?;
            let literal = match tok {
                Tok::Literal(literal) => literal,
                Tok::Word(word) => keyword_literal(word).ok_or_else(|| syntax_error(self.text(), at))?,
                Tok::Close | Tok::Comma | Tok::End => return Err(expression_expected(self.text(), at)),
                Tok::Open => return Err(syntax_error(self.text(), at)),
            };
            items.push((literal, at));
            match self.advance()? {
                Token { tok: Tok::Comma, .. } => {}
                Token { tok: Tok::Close, .. } => break,
                Token { at, .. } => {
                    return Err(syntax(
                        at,
                        format!("')' or ',' expected at position {at} in '{}'.", self.text()),
                    ));
                }
            }
        }
        self.node(
            Expr::In {
                operand: Box::new(operand.expr),
                items,
                position,
            },
            operand.height + 1,
        )
    }
}

// ---------------------------------------------------------------------------------------------------------
// Check
// ---------------------------------------------------------------------------------------------------------

/// The static type of a subexpression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty<'a> {
    Null,
    Bool,
    String,
    Number(&'static str),
    Guid,
    Date,
    DateTimeOffset,
    TimeOfDay,
    Duration,
    Binary,
    Enum(Option<&'a str>),
    Other,
}

impl fmt::Display for Ty<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Null => "null",
            Self::Bool => "Edm.Boolean",
            Self::String => "Edm.String",
            Self::Number(name) => name,
            Self::Guid => "Edm.Guid",
            Self::Date => "Edm.Date",
            Self::DateTimeOffset => "Edm.DateTimeOffset",
            Self::TimeOfDay => "Edm.TimeOfDay",
            Self::Duration => "Edm.Duration",
            Self::Binary => "Edm.Binary",
            Self::Enum(Some(name)) => name,
            Self::Enum(None) => "an enumeration type",
            Self::Other => "a structured type",
        })
    }
}

fn literal_ty(literal: &Literal) -> Ty<'_> {
    match literal {
        Literal::Null => Ty::Null,
        Literal::Boolean(_) => Ty::Bool,
        Literal::String(_) => Ty::String,
        Literal::Number(number) => Ty::Number(number.edm_name()),
        Literal::Guid(_) => Ty::Guid,
        Literal::Date(_) => Ty::Date,
        Literal::DateTimeOffset(_) => Ty::DateTimeOffset,
        Literal::TimeOfDay(_) => Ty::TimeOfDay,
        Literal::Duration(_) => Ty::Duration,
        Literal::Binary(_) => Ty::Binary,
        Literal::Enum { type_name, .. } => Ty::Enum(Some(type_name)),
    }
}

fn is_boolean(ty: Ty<'_>) -> bool {
    matches!(ty, Ty::Bool | Ty::Null)
}

/// Two enum type names name the same type; an unqualified name matches on its last segment.
fn same_enum(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let last = |name: &str| name.rsplit('.').next().unwrap_or(name).to_owned();
            a == b || ((!a.contains('.') || !b.contains('.')) && last(a) == last(b))
        }
        _ => true,
    }
}

fn unknown_property(name: &str, position: usize, schema: &dyn Schema) -> FilterError {
    let message = match schema.type_name() {
        Some(type_name) => format!("Could not find a property named '{name}' on type '{type_name}'."),
        None => format!("Could not find a property named '{name}'."),
    };
    invalid(position, message)
}

/// Checks a parsed filter against the entity's schema: property names, operand types, the functions
/// and operators the dialect accepts, and that the whole is boolean. The service answers 400 otherwise.
pub fn check(expr: &Expr, schema: &dyn Schema, dialect: Dialect) -> Result<(), FilterError> {
    let ty = Checker { schema, dialect }.ty(expr)?;
    if is_boolean(ty) {
        Ok(())
    } else {
        Err(invalid(
            expr.position(),
            "The $filter expression must evaluate to a single boolean value.".to_owned(),
        ))
    }
}

struct Checker<'a> {
    schema: &'a dyn Schema,
    dialect: Dialect,
}

impl<'a> Checker<'a> {
    fn ty(&self, expr: &'a Expr) -> Result<Ty<'a>, FilterError> {
        match expr {
            Expr::Literal { value, .. } => Ok(literal_ty(value)),
            Expr::Property { name, position } => {
                let kind = self
                    .schema
                    .kind(name)
                    .ok_or_else(|| unknown_property(name, *position, self.schema))?;
                Ok(match kind {
                    EdmKind::String => Ty::String,
                    EdmKind::Boolean => Ty::Bool,
                    EdmKind::Int => Ty::Number("Edm.Int32"),
                    EdmKind::Decimal => Ty::Number("Edm.Decimal"),
                    EdmKind::Double => Ty::Number("Edm.Double"),
                    EdmKind::Guid => Ty::Guid,
                    EdmKind::Date => Ty::Date,
                    EdmKind::DateTimeOffset => Ty::DateTimeOffset,
                    EdmKind::TimeOfDay => Ty::TimeOfDay,
                    EdmKind::Duration => Ty::Duration,
                    EdmKind::Binary => Ty::Binary,
                    EdmKind::Enum => Ty::Enum(self.schema.enum_type(name)),
                    EdmKind::Other => Ty::Other,
                })
            }
            Expr::Not { operand, position } => {
                let ty = self.ty(operand)?;
                if is_boolean(ty) {
                    Ok(Ty::Bool)
                } else {
                    Err(invalid(
                        *position,
                        format!(
                            "A unary operator with an incompatible type was detected. Found operand type \
                             '{ty}' for operator kind 'Not'."
                        ),
                    ))
                }
            }
            Expr::Logical { op, .. } => {
                // A chain nests to the left; walk it in a loop, then check it in source order.
                let mut links = Vec::new();
                let mut node = expr;
                while let Expr::Logical {
                    op: link_op,
                    left,
                    right,
                    position,
                } = node
                    && link_op == op
                {
                    links.push((right, *position));
                    node = left;
                }
                let mut l = self.ty(node)?;
                for (right, position) in links.into_iter().rev() {
                    let r = self.ty(right)?;
                    if !is_boolean(l) || !is_boolean(r) {
                        return Err(incompatible(l, r, op.kind_name(), position));
                    }
                    l = Ty::Bool;
                }
                Ok(l)
            }
            Expr::Compare {
                op,
                left,
                right,
                position,
            } => {
                let (l, r) = (self.ty(left)?, self.ty(right)?);
                self.comparable(*op, l, r, *position)?;
                Ok(Ty::Bool)
            }
            Expr::In { operand, items, .. } => {
                let ty = self.ty(operand)?;
                for (item, at) in items {
                    self.comparable(CompareOp::Eq, ty, literal_ty(item), *at)?;
                }
                Ok(Ty::Bool)
            }
            Expr::Call {
                function,
                args,
                position,
            } => {
                let case_mapping = matches!(function, Function::ToLower | Function::ToUpper);
                if case_mapping && self.dialect == Dialect::Dataverse {
                    return Err(unsupported(
                        *position,
                        format!(
                            "The function '{}' is not supported by Dataverse, which offers 'contains', \
                             'startswith' and 'endswith'.",
                            function.name()
                        ),
                    ));
                }
                for arg in args {
                    if !matches!(self.ty(arg)?, Ty::String | Ty::Null) {
                        return Err(function.no_signature(*position));
                    }
                }
                Ok(if case_mapping { Ty::String } else { Ty::Bool })
            }
        }
    }

    fn comparable(&self, op: CompareOp, l: Ty<'a>, r: Ty<'a>, position: usize) -> Result<(), FilterError> {
        let ok = match (l, r) {
            (Ty::Null, _) | (_, Ty::Null) => true,
            (Ty::Binary, Ty::Binary) => op.is_equality(),
            (Ty::Enum(a), Ty::Enum(b)) => same_enum(a, b),
            (Ty::Number(_), Ty::Number(_))
            | (Ty::Date | Ty::DateTimeOffset, Ty::Date | Ty::DateTimeOffset)
            | (Ty::Enum(_), Ty::String)
            | (Ty::String, Ty::Enum(_)) => true,
            (Ty::Bool | Ty::String | Ty::Guid | Ty::TimeOfDay | Ty::Duration, _) => l == r,
            _ => false,
        };
        if !ok {
            return Err(incompatible(l, r, op.kind_name(), position));
        }
        if self.dialect == Dialect::FinOps
            && !op.is_equality()
            && let Some(ty) = [l, r].into_iter().find(|t| matches!(t, Ty::Enum(_)))
        {
            return Err(invalid(
                position,
                format!(
                    "The operator '{}' cannot be applied to the enumeration type '{ty}': Finance and \
                     Operations compares enumeration values with 'eq' and 'ne' only.",
                    op.keyword()
                ),
            ));
        }
        Ok(())
    }
}

fn incompatible(l: Ty<'_>, r: Ty<'_>, kind: &str, position: usize) -> FilterError {
    invalid(
        position,
        format!(
            "A binary operator with incompatible types was detected. Found operand types '{l}' and '{r}' for \
             operator kind '{kind}'."
        ),
    )
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------

/// A value during evaluation, borrowed from the row or the expression.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    /// The `null` literal.
    Null,
    /// A null or absent value of the row, or a null result.
    Absent,
    Bool(bool),
    Str(Text<'a>),
    /// An enum member name.
    Member(&'a str),
    /// A number, and whether it is of a `Double` column (compared through `f64`).
    Num(Num<'a>, bool),
    Guid(u128),
    /// Julian day.
    Date(i32),
    /// Nanoseconds since the Julian day origin.
    Instant(i128),
    Time(Time),
    /// Nanoseconds.
    Duration(i128),
    /// Base64 text.
    Binary(&'a str),
    /// A row value that is not of its property's type, or not a primitive.
    Invalid,
}

#[derive(Debug, Clone, Copy)]
enum Num<'a> {
    /// A JSON number's text, or a number-as-string (`IEEE754Compatible`).
    Json(&'a str),
    Literal(&'a NumberLiteral),
    Float(f64),
}

impl<'a> Num<'a> {
    fn exact(self) -> Option<Dec<'a>> {
        match self {
            Self::Json(text) => Dec::parse(text),
            Self::Literal(number) => number.exact.as_ref().map(Exact::view),
            Self::Float(_) => None,
        }
    }

    fn float(self) -> Option<f64> {
        match self {
            Self::Json(text) => text.parse().ok(),
            Self::Literal(number) => Some(number.float),
            Self::Float(float) => Some(float),
        }
    }
}

fn num_cmp(a: Num<'_>, a_double: bool, b: Num<'_>, b_double: bool) -> Option<Ordering> {
    if !a_double
        && !b_double
        && let (Some(x), Some(y)) = (a.exact(), b.exact())
    {
        return Some(cmp_dec(x, y));
    }
    a.float()?.partial_cmp(&b.float()?)
}

/// Reads a row value as its property's kind; `None` (no schema entry) and `Other` read JSON as it is.
fn json_val(kind: Option<EdmKind>, value: Option<&Value>) -> Val<'_> {
    let Some(value) = value else { return Val::Absent };
    let kind = kind.filter(|k| *k != EdmKind::Other);
    match (kind, value) {
        (_, Value::Null) => Val::Absent,
        (Some(EdmKind::String) | None, Value::String(s)) => Val::Str(Text::new(s)),
        (Some(EdmKind::Boolean) | None, Value::Bool(b)) => Val::Bool(*b),
        (Some(EdmKind::Int | EdmKind::Decimal) | None, Value::Number(n)) => {
            Val::Num(Num::Json(n.as_str()), false)
        }
        (Some(EdmKind::Double), Value::Number(n)) => Val::Num(Num::Json(n.as_str()), true),
        (Some(EdmKind::Int | EdmKind::Decimal), Value::String(s)) if Dec::parse(s).is_some() => {
            Val::Num(Num::Json(s), false)
        }
        (Some(EdmKind::Double), Value::String(s)) => match s.as_str() {
            "INF" => Val::Num(Num::Float(f64::INFINITY), true),
            "-INF" => Val::Num(Num::Float(f64::NEG_INFINITY), true),
            "NaN" => Val::Num(Num::Float(f64::NAN), true),
            _ if Dec::parse(s).is_some() => Val::Num(Num::Json(s), true),
            _ => Val::Invalid,
        },
        (Some(EdmKind::Guid), Value::String(s)) => parse_guid(s).map_or(Val::Invalid, Val::Guid),
        (Some(EdmKind::Date), Value::String(s)) => {
            parse_date(s).map_or(Val::Invalid, |d| Val::Date(d.to_julian_day()))
        }
        (Some(EdmKind::DateTimeOffset), Value::String(s)) => {
            parse_date_time(s).map_or(Val::Invalid, |(d, t, o)| Val::Instant(instant(d, t, o)))
        }
        (Some(EdmKind::TimeOfDay), Value::String(s)) => parse_time(s).map_or(Val::Invalid, Val::Time),
        (Some(EdmKind::Duration), Value::String(s)) => {
            parse_duration(s).map_or(Val::Invalid, |d| Val::Duration(d.whole_nanoseconds()))
        }
        (Some(EdmKind::Binary), Value::String(s)) => Val::Binary(s),
        (Some(EdmKind::Enum), Value::String(s)) => Val::Member(s),
        _ => Val::Invalid,
    }
}

fn literal_val(literal: &Literal) -> Val<'_> {
    match literal {
        Literal::Null => Val::Null,
        Literal::Boolean(b) => Val::Bool(*b),
        Literal::String(s) => Val::Str(Text::new(s)),
        Literal::Number(number) => Val::Num(Num::Literal(number), false),
        Literal::Guid(guid) => Val::Guid(*guid),
        Literal::Date(date) => Val::Date(date.to_julian_day()),
        Literal::DateTimeOffset(at) => Val::Instant(instant(at.date(), at.time(), at.offset())),
        Literal::TimeOfDay(time) => Val::Time(*time),
        Literal::Duration(duration) => Val::Duration(duration.whole_nanoseconds()),
        Literal::Binary(s) => Val::Binary(s),
        Literal::Enum { member, .. } => Val::Member(member),
    }
}

/// The ordering of two non-null values, or `None` when they cannot compare.
fn order(l: Val<'_>, r: Val<'_>, fold: bool) -> Option<Ordering> {
    Some(match (l, r) {
        (Val::Bool(a), Val::Bool(b)) => a.cmp(&b),
        (Val::Str(a), Val::Str(b)) => text_cmp(a.folded(fold), b.folded(fold)),
        (Val::Member(a), Val::Member(b)) => a.cmp(b),
        (Val::Member(a), Val::Str(b)) => a.cmp(b.text),
        (Val::Str(a), Val::Member(b)) => a.text.cmp(b),
        (Val::Num(a, a_double), Val::Num(b, b_double)) => return num_cmp(a, a_double, b, b_double),
        (Val::Guid(a), Val::Guid(b)) => a.cmp(&b),
        (Val::Date(a), Val::Date(b)) => a.cmp(&b),
        (Val::Instant(a), Val::Instant(b)) => a.cmp(&b),
        (Val::Date(a), Val::Instant(b)) => day_start(a).cmp(&b),
        (Val::Instant(a), Val::Date(b)) => a.cmp(&day_start(b)),
        (Val::Time(a), Val::Time(b)) => a.cmp(&b),
        (Val::Duration(a), Val::Duration(b)) => a.cmp(&b),
        (Val::Binary(a), Val::Binary(b)) => base64_units(a).cmp(base64_units(b)),
        _ => return None,
    })
}

/// A comparison, with the null rules of the module documentation.
fn compare_vals(op: CompareOp, l: Val<'_>, r: Val<'_>, fold: bool) -> bool {
    match (l, r) {
        (Val::Null | Val::Absent, Val::Null | Val::Absent) => op == CompareOp::Eq,
        (Val::Null, _) | (_, Val::Null) => op == CompareOp::Ne,
        (Val::Absent, _) | (_, Val::Absent) => false,
        _ => order(l, r, fold).is_some_and(|ordering| op.holds(ordering)),
    }
}

fn truth(value: Val<'_>) -> Option<bool> {
    match value {
        Val::Bool(b) => Some(b),
        _ => None,
    }
}

/// Whether `row` matches a checked filter. Never allocates; an unchecked filter never panics either
/// (values that cannot compare make their comparison false).
pub fn evaluate(expr: &Expr, row: &Map<String, Value>, schema: &dyn Schema, dialect: Dialect) -> bool {
    let evaluator = Evaluator { row, schema, dialect };
    truth(evaluator.value(expr)) == Some(true)
}

struct Evaluator<'a> {
    row: &'a Map<String, Value>,
    schema: &'a dyn Schema,
    dialect: Dialect,
}

impl<'a> Evaluator<'a> {
    fn fold(&self) -> bool {
        self.dialect == Dialect::Dataverse
    }

    fn value(&self, expr: &'a Expr) -> Val<'a> {
        match expr {
            Expr::Literal { value, .. } => literal_val(value),
            Expr::Property { name, .. } => json_val(self.schema.kind(name), self.row.get(name.as_str())),
            Expr::Not { operand, .. } => truth(self.value(operand)).map_or(Val::Absent, |b| Val::Bool(!b)),
            Expr::Logical { op, .. } => self.logical(*op, expr),
            Expr::Compare { op, left, right, .. } => Val::Bool(self.compare(*op, left, right)),
            Expr::In { operand, items, .. } => {
                let value = self.value(operand);
                Val::Bool(
                    items
                        .iter()
                        .any(|(item, _)| compare_vals(CompareOp::Eq, value, literal_val(item), self.fold())),
                )
            }
            Expr::Call { function, args, .. } => self.call(*function, args),
        }
    }

    /// A chain of one logical operator, walked in a loop (it nests to the left), three-valued: false
    /// decides `and`, true decides `or`, and an unknown operand leaves an undecided chain unknown.
    fn logical(&self, op: LogicalOp, chain: &'a Expr) -> Val<'a> {
        let decisive = op == LogicalOp::Or;
        let mut unknown = false;
        let mut node = chain;
        loop {
            let (operand, next) = match node {
                Expr::Logical {
                    op: link_op,
                    left,
                    right,
                    ..
                } if *link_op == op => (&**right, Some(&**left)),
                leftmost => (leftmost, None),
            };
            match truth(self.value(operand)) {
                Some(b) if b == decisive => return Val::Bool(decisive),
                Some(_) => {}
                None => unknown = true,
            }
            match next {
                Some(left) => node = left,
                None if unknown => return Val::Absent,
                None => return Val::Bool(!decisive),
            }
        }
    }

    fn compare(&self, op: CompareOp, left: &'a Expr, right: &'a Expr) -> bool {
        if self.dialect == Dialect::FinOps && op.is_equality() {
            let pattern = |e: &'a Expr| match e {
                Expr::Literal {
                    value: Literal::String(s),
                    ..
                } if s.contains('*') => Some(s.as_str()),
                _ => None,
            };
            let wildcard = match (pattern(right), pattern(left)) {
                (Some(p), _) => Some((self.value(left), p)),
                (None, Some(p)) => Some((self.value(right), p)),
                (None, None) => None,
            };
            if let Some((Val::Str(text), pattern)) = wildcard {
                return wildcard_match(text, Text::new(pattern)) == (op == CompareOp::Eq);
            }
        }
        compare_vals(op, self.value(left), self.value(right), self.fold())
    }

    fn call(&self, function: Function, args: &'a [Expr]) -> Val<'a> {
        let arg = |i: usize| args.get(i).map_or(Val::Absent, |e| self.value(e));
        let case = match function {
            Function::ToLower => Case::Lower,
            Function::ToUpper => Case::Upper,
            Function::Contains | Function::StartsWith | Function::EndsWith => {
                return match (arg(0), arg(1)) {
                    (Val::Str(h), Val::Str(n)) => {
                        let (h, n) = (h.folded(self.fold()), n.folded(self.fold()));
                        Val::Bool(match function {
                            Function::Contains => contains(h, n),
                            Function::StartsWith => prefix_len(h, n).is_some(),
                            _ => ends_with(h, n),
                        })
                    }
                    (Val::Null | Val::Absent, _) | (_, Val::Null | Val::Absent) => Val::Absent,
                    _ => Val::Bool(false),
                };
            }
        };
        match arg(0) {
            Val::Str(text) => Val::Str(Text { case, ..text }),
            _ => Val::Absent,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// $orderby
// ---------------------------------------------------------------------------------------------------------

/// A parsed `$orderby`: property names with their direction (`true` = descending), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderBy {
    keys: Vec<(String, bool)>,
    positions: Vec<usize>,
}

impl OrderBy {
    /// The sort keys: property name and descending, most significant first.
    pub fn keys(&self) -> &[(String, bool)] {
        &self.keys
    }
}

/// Parses `$orderby` (`name desc, createdon`); ordering by an expression or a path is refused.
pub fn parse_order_by(text: &str) -> Result<OrderBy, FilterError> {
    let mut lexer = Lexer::new(text);
    let mut order = OrderBy::default();
    loop {
        let Token { tok, at } = lexer.next_token()?;
        let name = match tok {
            Tok::Word(word) if !word.contains('.') => word,
            Tok::Close | Tok::Comma | Tok::End => return Err(expression_expected(text, at)),
            _ => return Err(syntax_error(text, at)),
        };
        let mut next = lexer.next_token()?;
        if matches!(next.tok, Tok::Open) {
            return Err(unsupported(
                at,
                format!(
                    "Ordering by an expression ('{name}(...)' at position {at} in '{text}') is not supported \
                     by the emulator; order by a property."
                ),
            ));
        }
        let descending = matches!(next.tok, Tok::Word("desc"));
        if matches!(next.tok, Tok::Word("asc" | "desc")) {
            next = lexer.next_token()?;
        }
        if order.keys.iter().any(|(key, _)| key == name) {
            return Err(invalid(
                at,
                format!("Duplicate property named '{name}' is not supported in '$orderby'."),
            ));
        }
        order.keys.push((name.to_owned(), descending));
        order.positions.push(at);
        match next.tok {
            Tok::Comma => {}
            Tok::End => return Ok(order),
            tok => {
                let at = next.at;
                return Err(syntax(
                    at,
                    format!("Syntax error at position {at} in '{text}'.{}", case_hint(&tok)),
                ));
            }
        }
    }
}

/// Checks that every `$orderby` key is a property of the entity type.
pub fn check_order_by(order: &OrderBy, schema: &dyn Schema) -> Result<(), FilterError> {
    for ((name, _), position) in order.keys.iter().zip(&order.positions) {
        if schema.kind(name).is_none() {
            return Err(unknown_property(name, *position, schema));
        }
    }
    Ok(())
}

/// The order of two rows under `$orderby`: nulls first ascending (last descending), as SQL Server sorts;
/// values that cannot compare tie. Strings compare ordinally here, in every dialect.
pub fn compare_rows(
    order: &OrderBy,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    schema: &dyn Schema,
) -> Ordering {
    for (name, descending) in &order.keys {
        let kind = schema.kind(name);
        let ordering =
            compare_json(kind, a.get(name.as_str()), b.get(name.as_str())).unwrap_or(Ordering::Equal);
        let ordering = if *descending { ordering.reverse() } else { ordering };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

/// The order of two values of one kind, nulls first; `None` when either is not a value of that kind.
pub fn compare_values(kind: EdmKind, a: &Value, b: &Value) -> Option<Ordering> {
    compare_json(Some(kind), Some(a), Some(b))
}

fn compare_json(kind: Option<EdmKind>, a: Option<&Value>, b: Option<&Value>) -> Option<Ordering> {
    match (json_val(kind, a), json_val(kind, b)) {
        (Val::Absent, Val::Absent) => Some(Ordering::Equal),
        (Val::Absent, _) => Some(Ordering::Less),
        (_, Val::Absent) => Some(Ordering::Greater),
        (l, r) => order(l, r, false),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::{Month, UtcOffset};

    use super::*;

    /// An F&O-like entity with one property of every kind.
    struct Entity;

    impl Schema for Entity {
        fn kind(&self, property: &str) -> Option<EdmKind> {
            Some(match property {
                "name" | "city" => EdmKind::String,
                "active" => EdmKind::Boolean,
                "count" => EdmKind::Int,
                "amount" | "limit" => EdmKind::Decimal,
                "ratio" => EdmKind::Double,
                "id" | "_parentcustomerid_value" => EdmKind::Guid,
                "day" => EdmKind::Date,
                "at" => EdmKind::DateTimeOffset,
                "clock" => EdmKind::TimeOfDay,
                "span" => EdmKind::Duration,
                "blob" => EdmKind::Binary,
                "blocked" | "vendorblocked" => EdmKind::Enum,
                "address" => EdmKind::Other,
                _ => return None,
            })
        }

        fn enum_type(&self, property: &str) -> Option<&str> {
            match property {
                "blocked" => Some("Microsoft.Dynamics.DataEntities.NoYes"),
                "vendorblocked" => Some("Microsoft.Dynamics.DataEntities.CustVendorBlocked"),
                _ => None,
            }
        }

        fn type_name(&self) -> Option<&str> {
            Some("Microsoft.Dynamics.DataEntities.CustomerV3")
        }
    }

    const ROW: &str = r#"{
        "name": "O'Brien & Sons", "city": "Zürich", "active": true, "count": 42,
        "amount": 12345678901234567890.123456789, "limit": 1e2, "ratio": 0.1,
        "id": "6F9619FF-8B86-D011-B42D-00C04FC964FF", "_parentcustomerid_value": null,
        "day": "2024-05-01", "at": "2024-05-01T09:30:00+02:00", "clock": "09:30:00", "span": "P1DT2H",
        "blob": "AQID", "blocked": "Yes", "vendorblocked": "No", "address": {"line1": "1 Main St"}
    }"#;

    fn row(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).expect("test rows are JSON objects")
    }

    fn matches(filter: &str, row: &Map<String, Value>, dialect: Dialect) -> bool {
        let expr = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        check(&expr, &Entity, dialect).unwrap_or_else(|e| panic!("{filter}: {e}"));
        evaluate(&expr, row, &Entity, dialect)
    }

    fn table(dialect: Dialect, row: &Map<String, Value>, cases: &[(&str, bool)]) {
        let wrong: Vec<_> = cases
            .iter()
            .filter(|(filter, expected)| matches(filter, row, dialect) != *expected)
            .map(|(filter, expected)| format!("{filter} should be {expected}"))
            .collect();
        assert!(wrong.is_empty(), "{dialect:?}:\n{}", wrong.join("\n"));
    }

    #[test]
    fn comparison_operators_on_every_kind() {
        table(
            Dialect::Generic,
            &row(ROW),
            &[
                ("name eq 'O''Brien & Sons'", true),
                ("name eq 'o''brien & sons'", false),
                ("name ne 'x'", true),
                ("name gt 'O'", true),
                ("name lt 'P'", true),
                ("city eq 'Zürich'", true),
                ("count eq 42", true),
                ("count ne 42", false),
                ("count gt 41", true),
                ("count ge 42", true),
                ("count lt 42", false),
                ("count le 42", true),
                ("count eq 42.0", true),
                ("count eq 42L", true),
                ("count eq 42.000M", true),
                ("count eq 4.2e1", true),
                ("count eq 4.2E+1d", true),
                ("count gt -43", true),
                ("count lt 420e-1", false),
                ("limit eq 100", true),
                ("limit eq 1e2", true),
                ("ratio eq 0.1", true),
                ("ratio lt 1e0", true),
                ("ratio gt -INF", true),
                ("ratio lt INF", true),
                ("ratio eq NaN", false),
                ("active eq true", true),
                ("active ne false", true),
                ("active", true),
                ("not active", false),
                ("id eq 6f9619ff-8b86-d011-b42d-00c04fc964ff", true),
                ("id eq 6F9619FF-8B86-D011-B42D-00C04FC964FF", true),
                ("id ne 00000000-0000-0000-0000-000000000000", true),
                ("day eq 2024-05-01", true),
                ("day lt 2024-05-02", true),
                ("day gt 2024-04-30", true),
                ("at eq 2024-05-01T07:30:00Z", true),
                ("at eq 2024-05-01T03:30:00-04:00", true),
                ("at lt 2024-05-01T08:00:00.5+01:00", false),
                ("at gt 2024-05-01T07:29:59.999999999Z", true),
                ("at ge 2024-05-01", true),
                ("at lt 2024-05-02", true),
                ("at eq 2024-05-01T07:30Z", true),
                ("clock eq 09:30:00", true),
                ("clock eq 09:30", true),
                ("clock lt 09:30:00.001", true),
                ("clock gt 09:30:00.0000001", false),
                ("span eq duration'P1DT2H'", true),
                ("span eq duration'PT26H'", true),
                ("span gt duration'PT25H59M59.5S'", true),
                ("span gt duration'-P1D'", true),
                ("blob eq binary'AQID'", true),
                ("blob ne binary'AQIE'", true),
                ("blocked eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", true),
                ("blocked ne Microsoft.Dynamics.DataEntities.NoYes'No'", true),
                ("blocked eq 'Yes'", true),
                (
                    "vendorblocked eq Microsoft.Dynamics.DataEntities.CustVendorBlocked'No'",
                    true,
                ),
                ("address eq null", false),
                ("address ne null", true),
                ("true", true),
                ("false", false),
                ("null eq null", true),
                ("1 eq 1.0", true),
                ("'a' lt 'b'", true),
                ("name eq city", false),
                ("count eq count", true),
            ],
        );
    }

    #[test]
    fn in_and_string_functions() {
        table(
            Dialect::Generic,
            &row(ROW),
            &[
                ("name in ('a', 'O''Brien & Sons')", true),
                ("name in ('a','b')", false),
                ("count in (1, 2, 42)", true),
                ("count in (1,2,3)", false),
                ("id in (6f9619ff-8b86-d011-b42d-00c04fc964ff)", true),
                (
                    "blocked in (Microsoft.Dynamics.DataEntities.NoYes'No', Microsoft.Dynamics.DataEntities.NoYes'Yes')",
                    true,
                ),
                ("contains(name,'Brien')", true),
                ("contains(name, 'brien')", false),
                ("contains(name,'')", true),
                ("startswith(name,'O''B')", true),
                ("startswith(name,'Brien')", false),
                ("endswith(name,'Sons')", true),
                ("endswith(name,'sons')", false),
                ("endswith(city,'rich')", true),
                ("tolower(name) eq 'o''brien & sons'", true),
                ("toupper(city) eq 'ZÜRICH'", true),
                ("contains(tolower(city),'zü')", true),
                ("startswith(toupper(name),'O''BRIEN')", true),
                ("endswith(tolower(city),'ÜRICH')", false),
                ("tolower(name) eq tolower('O''BRIEN & SONS')", true),
                ("not contains(name,'x')", true),
                ("contains(name,'x') eq false", true),
            ],
        );
    }

    #[test]
    fn precedence_not_comparisons_and_or() {
        let cases: &[(&str, &str)] = &[
            (
                "a eq 1 or b eq 2 and c eq 3",
                "(a eq 1) or ((b eq 2) and (c eq 3))",
            ),
            (
                "a eq 1 and b eq 2 or c eq 3",
                "((a eq 1) and (b eq 2)) or (c eq 3)",
            ),
            ("not a and b", "(not a) and b"),
            ("not a eq b", "(not a) eq b"),
            ("a eq b gt c", "a eq (b gt c)"),
            ("a lt b eq c ge d", "(a lt b) eq (c ge d)"),
            ("(a or b) and c", "(a or b) and c"),
            ("a or b or c", "(a or b) or c"),
            ("not not a", "not (not a)"),
            ("a in (1) eq true", "(a in (1)) eq true"),
        ];
        for (filter, expected) in cases {
            let expr = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
            assert_eq!(render(&expr), *expected, "{filter}");
        }
        table(
            Dialect::Generic,
            &row(ROW),
            &[
                ("count eq 1 or count eq 42 and name eq 'x'", false),
                ("(count eq 1 or count eq 42) and name ne 'x'", true),
                ("count eq 42 or count eq 1 and name eq 'x'", true),
                ("not (count eq 1) and active", true),
                ("not (count eq 42 and active)", false),
                ("count eq 42 and (active or name eq 'x')", true),
                ("((((count eq 42))))", true),
                ("not not active", true),
                ("active eq count gt 41", true),
            ],
        );
    }

    /// The shape of an expression, fully parenthesized, for precedence tests.
    fn render(expr: &Expr) -> String {
        let inner = |e: &Expr| match e {
            Expr::Property { .. } | Expr::Literal { .. } | Expr::Call { .. } => render(e),
            _ => format!("({})", render(e)),
        };
        match expr {
            Expr::Literal {
                value: Literal::Number(n),
                ..
            } => n.text().to_owned(),
            Expr::Literal {
                value: Literal::Boolean(b),
                ..
            } => b.to_string(),
            Expr::Literal { value, .. } => format!("{value:?}"),
            Expr::Property { name, .. } => name.clone(),
            Expr::Not { operand, .. } => format!("not {}", inner(operand)),
            Expr::Logical { op, left, right, .. } => {
                let op = if *op == LogicalOp::And { "and" } else { "or" };
                format!("{} {op} {}", inner(left), inner(right))
            }
            Expr::Compare { op, left, right, .. } => {
                format!("{} {} {}", inner(left), op.keyword(), inner(right))
            }
            Expr::In { operand, items, .. } => {
                let items: Vec<_> = items
                    .iter()
                    .map(|(item, _)| match item {
                        Literal::Number(n) => n.text().to_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("{} in ({})", inner(operand), items.join(", "))
            }
            Expr::Call { function, args, .. } => {
                let args: Vec<_> = args.iter().map(render).collect();
                format!("{}({})", function.name(), args.join(","))
            }
        }
    }

    #[test]
    fn literals_parse_to_their_values() {
        let literal = |text: &str| match parse(&format!("x eq {text}")) {
            Ok(Expr::Compare { right, .. }) => match *right {
                Expr::Literal { value, .. } => value,
                other => panic!("{text}: {other:?}"),
            },
            other => panic!("{text}: {other:?}"),
        };
        let number = |text: &str| match literal(text) {
            Literal::Number(n) => (n.text().to_owned(), n.kind()),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(literal("'O''Brien'"), Literal::String("O'Brien".to_owned()));
        assert_eq!(literal("''''"), Literal::String("'".to_owned()));
        assert_eq!(literal("'Zürich ☃'"), Literal::String("Zürich ☃".to_owned()));
        assert_eq!(number("12"), ("12".to_owned(), NumberKind::Int32));
        assert_eq!(number("-3"), ("-3".to_owned(), NumberKind::Int32));
        assert_eq!(number("3000000000"), ("3000000000".to_owned(), NumberKind::Int64));
        assert_eq!(number("12L"), ("12".to_owned(), NumberKind::Int64));
        assert_eq!(
            number("99999999999999999999"),
            ("99999999999999999999".to_owned(), NumberKind::Decimal)
        );
        assert_eq!(number("12.5"), ("12.5".to_owned(), NumberKind::Decimal));
        assert_eq!(number("1.5M"), ("1.5".to_owned(), NumberKind::Decimal));
        assert_eq!(number("1.5m"), ("1.5".to_owned(), NumberKind::Decimal));
        assert_eq!(number("1e3"), ("1e3".to_owned(), NumberKind::Double));
        assert_eq!(number("-1.5E-3"), ("-1.5E-3".to_owned(), NumberKind::Double));
        assert_eq!(number("2.5d"), ("2.5".to_owned(), NumberKind::Double));
        assert_eq!(number("2.5f"), ("2.5".to_owned(), NumberKind::Double));
        assert_eq!(number("INF"), ("INF".to_owned(), NumberKind::Double));
        assert_eq!(number("-INF"), ("-INF".to_owned(), NumberKind::Double));
        assert_eq!(number("NaN"), ("NaN".to_owned(), NumberKind::Double));
        assert_eq!(literal("true"), Literal::Boolean(true));
        assert_eq!(literal("false"), Literal::Boolean(false));
        assert_eq!(literal("null"), Literal::Null);
        assert_eq!(
            literal("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
            Literal::Guid(0x6F9619FF_8B86_D011_B42D_00C04FC964FF)
        );
        assert_eq!(
            literal("abcdef01-2345-6789-abcd-ef0123456789"),
            Literal::Guid(0xabcdef01_2345_6789_abcd_ef0123456789)
        );
        let date = Date::from_calendar_date(2024, Month::May, 1).expect("valid date");
        assert_eq!(literal("2024-05-01"), Literal::Date(date));
        let nine_thirty = Time::from_hms(9, 30, 0).expect("valid time");
        let plus_two = UtcOffset::from_hms(2, 0, 0).expect("valid offset");
        assert_eq!(
            literal("2024-05-01T09:30:00+02:00"),
            Literal::DateTimeOffset(OffsetDateTime::new_in_offset(date, nine_thirty, plus_two))
        );
        assert_eq!(
            literal("2024-05-01T07:30:00Z"),
            Literal::DateTimeOffset(OffsetDateTime::new_in_offset(date, nine_thirty, plus_two))
        );
        let fraction = Time::from_hms_nano(9, 30, 0, 123_456_700).expect("valid time");
        assert_eq!(
            literal("2024-05-01T09:30:00.1234567Z"),
            Literal::DateTimeOffset(OffsetDateTime::new_in_offset(date, fraction, UtcOffset::UTC))
        );
        assert_eq!(literal("09:30:00"), Literal::TimeOfDay(nine_thirty));
        assert_eq!(
            literal("duration'P1D'"),
            Literal::Duration(time::Duration::days(1))
        );
        assert_eq!(
            literal("duration'-PT1H30M0.5S'"),
            Literal::Duration(-(time::Duration::minutes(90) + time::Duration::milliseconds(500)))
        );
        assert_eq!(literal("binary'AQID'"), Literal::Binary("AQID".to_owned()));
        assert_eq!(
            literal("Microsoft.Dynamics.DataEntities.NoYes'Yes'"),
            Literal::Enum {
                type_name: "Microsoft.Dynamics.DataEntities.NoYes".to_owned(),
                member: "Yes".to_owned()
            }
        );
        assert!(matches!(
            parse("_parentcustomerid_value eq null"),
            Ok(Expr::Compare { .. })
        ));
    }

    #[test]
    fn dataverse_compares_strings_case_insensitively() {
        table(
            Dialect::Dataverse,
            &row(ROW),
            &[
                ("name eq 'o''brien & sons'", true),
                ("name eq 'O''BRIEN & SONS'", true),
                ("name ne 'O''BRIEN & SONS'", false),
                ("name ne 'o''brien'", true),
                ("city eq 'ZÜRICH'", true),
                ("city eq 'zurich'", false),
                ("contains(name,'BRIEN')", true),
                ("contains(city,'ÜR')", true),
                ("startswith(name,'o''b')", true),
                ("endswith(name,'SONS')", true),
                ("endswith(city,'RICH')", true),
                ("name in ('x', 'O''BRIEN & SONS')", true),
                ("name gt 'o'", true),
                ("name le 'O''BRIEN & SONS'", true),
                ("name eq '*Brien*'", false),
                ("blocked eq 'yes'", false),
                ("id eq 6f9619ff-8b86-d011-b42d-00c04fc964ff", true),
            ],
        );
        // The same filters are case-sensitive elsewhere.
        table(
            Dialect::Generic,
            &row(ROW),
            &[
                ("name eq 'O''BRIEN & SONS'", false),
                ("contains(name,'BRIEN')", false),
                ("city eq 'ZÜRICH'", false),
            ],
        );
    }

    #[test]
    fn finops_wildcards() {
        table(
            Dialect::FinOps,
            &row(ROW),
            &[
                ("name eq '*Brien*'", true),
                ("name eq 'O''B*'", true),
                ("name eq '*Sons'", true),
                ("name eq '*brien*'", false),
                ("name eq '*Brien'", false),
                ("name eq 'Brien*'", false),
                ("name eq 'O*&*s'", true),
                ("name eq 'O*x*s'", false),
                ("name eq '*'", true),
                ("name eq '**'", true),
                ("name eq 'O''Brien & Sons*'", true),
                ("name ne '*Brien*'", false),
                ("name ne '*xyz*'", true),
                ("city eq 'Z*h'", true),
                ("city eq '*ü*'", true),
                ("'*Sons' eq name", true),
                ("tolower(name) eq '*brien*'", true),
                ("name in ('*Brien*')", false),
                ("name eq 'O''Brien & Sons'", true),
            ],
        );
        // Nowhere else is `*` special.
        table(Dialect::Generic, &row(ROW), &[("name eq '*Brien*'", false)]);
        table(
            Dialect::FinOps,
            &row(r#"{"name": "a*b"}"#),
            &[("name eq 'a*b'", true), ("name eq 'a*c'", false)],
        );
        table(
            Dialect::FinOps,
            &row(r#"{"name": null}"#),
            &[("name eq '*'", false), ("name ne '*'", false)],
        );
    }

    #[test]
    fn finops_enums_take_only_eq_and_ne() {
        let filter = "blocked gt Microsoft.Dynamics.DataEntities.NoYes'No'";
        let expr = parse(filter).expect("parses");
        let err = check(&expr, &Entity, Dialect::FinOps).expect_err("F&O refuses enum ordering");
        assert!(matches!(err, FilterError::Invalid { position: 8, .. }), "{err:?}");
        assert_eq!(
            err.message(),
            "The operator 'gt' cannot be applied to the enumeration type \
             'Microsoft.Dynamics.DataEntities.NoYes': Finance and Operations compares enumeration values with \
             'eq' and 'ne' only."
        );
        for filter in [
            "blocked le 'Yes'",
            "'No' lt blocked",
            "vendorblocked ge vendorblocked",
        ] {
            assert!(
                check(&parse(filter).expect("parses"), &Entity, Dialect::FinOps).is_err(),
                "{filter}"
            );
        }
        assert!(check(&expr, &Entity, Dialect::Generic).is_ok());
        assert!(matches(filter, &row(ROW), Dialect::Generic));
        table(
            Dialect::FinOps,
            &row(ROW),
            &[
                ("blocked eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", true),
                ("blocked ne Microsoft.Dynamics.DataEntities.NoYes'Yes'", false),
                ("blocked eq 'Yes'", true),
                ("blocked eq 'yes'", false),
                (
                    "blocked in ('No', Microsoft.Dynamics.DataEntities.NoYes'Yes')",
                    true,
                ),
                ("blocked eq null", false),
            ],
        );
    }

    #[test]
    fn null_and_absent_values() {
        let nulls = row(r#"{"name": null, "city": "Oslo", "active": null, "amount": null}"#);
        let cases: &[(&str, bool)] = &[
            ("name eq null", true),
            ("count eq null", true),
            ("null eq name", true),
            ("name ne null", false),
            ("city ne null", true),
            ("null ne city", true),
            ("name ne 'x'", false),
            ("name eq 'x'", false),
            ("not (name eq 'x')", true),
            ("count gt 1", false),
            ("count lt 1", false),
            ("count ge null", false),
            ("amount le 0", false),
            ("contains(name,'x')", false),
            ("not contains(name,'x')", false),
            ("startswith(city, null)", false),
            ("name eq null or count gt 1", true),
            ("name eq null and count eq null", true),
            ("active", false),
            ("not active", false),
            ("active or true", true),
            ("active and false", false),
            ("not (active and false)", true),
            ("active eq null", true),
            ("name in ('x', null)", true),
            ("name in ('x')", false),
            ("name eq city", false),
            ("name ne city", false),
            ("count eq amount", true),
            ("id eq null", true),
            ("day eq null", true),
            ("blocked eq null", true),
        ];
        for dialect in [Dialect::Generic, Dialect::Dataverse, Dialect::FinOps] {
            table(dialect, &nulls, cases);
        }
        table(
            Dialect::Generic,
            &nulls,
            &[("tolower(name) eq null", true), ("toupper(name) ne 'X'", false)],
        );
    }

    #[test]
    fn decimals_compare_exactly() {
        let big = row(r#"{"amount": 12345678901234567890.123456789, "limit": 0.30000000000000004441}"#);
        table(
            Dialect::Generic,
            &big,
            &[
                ("amount eq 12345678901234567890.123456789", true),
                ("amount lt 12345678901234567890.123456790", true),
                ("amount lt 12345678901234567890.1234567891", true),
                ("amount gt 12345678901234567890.1234567889", true),
                ("amount eq 12345678901234567890.12345679", false),
                ("amount ne 12345678901234567890.124", true),
                ("amount lt 12345678901234567890.124", true),
                ("amount eq 12345678901234567890123456789e-9", true),
                ("amount eq 1.2345678901234567890123456789e19", true),
                ("amount gt 12345678901234567890", true),
                ("limit ne 0.3", true),
                ("limit gt 0.3", true),
                ("limit lt 0.30000000000000004442", true),
            ],
        );
        let ordering = |a: &str, b: &str| {
            compare_values(
                EdmKind::Decimal,
                &serde_json::from_str(a).expect("a"),
                &serde_json::from_str(b).expect("b"),
            )
        };
        assert_eq!(ordering("0.1", "0.10000"), Some(Ordering::Equal));
        assert_eq!(ordering("-0", "0.000"), Some(Ordering::Equal));
        assert_eq!(ordering("1e2", "100.0"), Some(Ordering::Equal));
        assert_eq!(ordering("-1.5", "-1.25"), Some(Ordering::Less));
        assert_eq!(ordering("-0.001", "0"), Some(Ordering::Less));
        assert_eq!(
            ordering("999999999999999999999999999999999", "1e33"),
            Some(Ordering::Less)
        );
        assert_eq!(
            ordering(
                "123456789012345678901234567890.5",
                "123456789012345678901234567890.49"
            ),
            Some(Ordering::Greater)
        );
        assert_eq!(ordering("\"12.50\"", "12.5"), Some(Ordering::Equal));
        // A Double column compares through f64: these are the same double.
        let double = |a: &str, b: &str| {
            compare_values(
                EdmKind::Double,
                &serde_json::from_str(a).expect("a"),
                &serde_json::from_str(b).expect("b"),
            )
        };
        assert_eq!(
            double("0.30000000000000004441", "0.30000000000000004442"),
            Some(Ordering::Equal)
        );
        assert_eq!(double("\"-INF\"", "-1e308"), Some(Ordering::Less));
        assert_eq!(double("\"NaN\"", "1"), None);
    }

    #[test]
    fn check_refuses_what_the_services_refuse() {
        use Dialect::{Dataverse, FinOps, Generic};
        let cases: &[(&str, Dialect, usize, &str)] = &[
            (
                "nme eq 'x'",
                Generic,
                0,
                "Could not find a property named 'nme' on type 'Microsoft.Dynamics.DataEntities.CustomerV3'.",
            ),
            (
                "count eq 'x'",
                Generic,
                6,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and \
                 'Edm.String' for operator kind 'Equal'.",
            ),
            (
                "name gt 1",
                Generic,
                5,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and \
                 'Edm.Int32' for operator kind 'GreaterThan'.",
            ),
            (
                "id eq '6f9619ff-8b86-d011-b42d-00c04fc964ff'",
                Dataverse,
                3,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and \
                 'Edm.String' for operator kind 'Equal'.",
            ),
            (
                "blocked eq Microsoft.Dynamics.DataEntities.CustVendorBlocked'No'",
                FinOps,
                8,
                "A binary operator with incompatible types was detected. Found operand types \
                 'Microsoft.Dynamics.DataEntities.NoYes' and 'Microsoft.Dynamics.DataEntities.CustVendorBlocked' \
                 for operator kind 'Equal'.",
            ),
            (
                "blocked eq 1",
                FinOps,
                8,
                "A binary operator with incompatible types was detected. Found operand types \
                 'Microsoft.Dynamics.DataEntities.NoYes' and 'Edm.Int32' for operator kind 'Equal'.",
            ),
            (
                "tolower(name) eq 'x'",
                Dataverse,
                0,
                "The function 'tolower' is not supported by Dataverse, which offers 'contains', 'startswith' and \
                 'endswith'.",
            ),
            (
                "contains(count,'1')",
                Generic,
                0,
                "No function signature for the function with name 'contains' matches the specified arguments. \
                 The function signatures considered are: contains(Edm.String Nullable=true, Edm.String \
                 Nullable=true).",
            ),
            (
                "not name eq 'x'",
                Generic,
                0,
                "A unary operator with an incompatible type was detected. Found operand type 'Edm.String' for \
                 operator kind 'Not'.",
            ),
            (
                "name",
                Generic,
                0,
                "The $filter expression must evaluate to a single boolean value.",
            ),
            (
                "tolower(name)",
                Generic,
                0,
                "The $filter expression must evaluate to a single boolean value.",
            ),
            (
                "count and active",
                Generic,
                6,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and \
                 'Edm.Boolean' for operator kind 'And'.",
            ),
            (
                "blob gt binary'AQID'",
                Generic,
                5,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Binary' and \
                 'Edm.Binary' for operator kind 'GreaterThan'.",
            ),
            (
                "address eq 'x'",
                Generic,
                8,
                "A binary operator with incompatible types was detected. Found operand types 'a structured \
                 type' and 'Edm.String' for operator kind 'Equal'.",
            ),
            (
                "count in (1, 'x')",
                Generic,
                13,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and \
                 'Edm.String' for operator kind 'Equal'.",
            ),
            (
                "clock eq 2024-05-01",
                Generic,
                6,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.TimeOfDay' and \
                 'Edm.Date' for operator kind 'Equal'.",
            ),
            (
                "span lt 5",
                Generic,
                5,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Duration' and \
                 'Edm.Int32' for operator kind 'LessThan'.",
            ),
            (
                "active eq 1",
                Generic,
                7,
                "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and \
                 'Edm.Int32' for operator kind 'Equal'.",
            ),
        ];
        for (filter, dialect, position, message) in cases {
            let expr = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
            let err = check(&expr, &Entity, *dialect).expect_err(filter);
            assert_eq!((err.position(), err.message()), (*position, *message), "{filter}");
        }
        // What every dialect accepts.
        for filter in [
            "address eq null",
            "at gt 2024-05-01",
            "ratio eq 1",
            "amount lt 1e3",
            "blocked eq 'Yes'",
            "day eq 2024-05-01T00:00:00Z",
            "name eq city",
            "null",
        ] {
            for dialect in [Generic, Dataverse, FinOps] {
                let expr = parse(filter).expect(filter);
                assert_eq!(check(&expr, &Entity, dialect), Ok(()), "{filter} in {dialect:?}");
            }
        }
    }

    #[test]
    fn parse_errors_name_their_position() {
        enum Kind {
            Syntax,
            Invalid,
            Unsupported,
        }
        let cases: &[(&str, Kind, usize, &str)] = &[
            (
                "name == 'x'",
                Kind::Syntax,
                5,
                "Syntax error: character '=' is not valid at position 5 in 'name == 'x''.",
            ),
            (
                "name = 'x'",
                Kind::Syntax,
                5,
                "Syntax error: character '=' is not valid at position 5 in 'name = 'x''.",
            ),
            (
                "name eq \"x\"",
                Kind::Syntax,
                8,
                "Syntax error: character '\"' is not valid at position 8 in 'name eq \"x\"'.",
            ),
            (
                "(name eq 'x'",
                Kind::Syntax,
                12,
                "')' or operator expected at position 12 in '(name eq 'x''.",
            ),
            (
                "((name eq 'x')",
                Kind::Syntax,
                14,
                "')' or operator expected at position 14 in '((name eq 'x')'.",
            ),
            (
                "name eq 'x')",
                Kind::Syntax,
                11,
                "Syntax error at position 11 in 'name eq 'x')'.",
            ),
            (
                "name eq 'x",
                Kind::Syntax,
                8,
                "There is an unterminated string literal at position 8 in 'name eq 'x'.",
            ),
            (
                "name eq 'it''s",
                Kind::Syntax,
                8,
                "There is an unterminated string literal at position 8 in 'name eq 'it''s'.",
            ),
            (
                "name EQ 'x'",
                Kind::Syntax,
                5,
                "Syntax error at position 5 in 'name EQ 'x''. Operators are case-sensitive: write 'eq'.",
            ),
            (
                "name eq 'x' extra",
                Kind::Syntax,
                12,
                "Syntax error at position 12 in 'name eq 'x' extra'.",
            ),
            ("", Kind::Syntax, 0, "Expression expected at position 0 in ''."),
            (
                "   ",
                Kind::Syntax,
                3,
                "Expression expected at position 3 in '   '.",
            ),
            (
                "name eq",
                Kind::Syntax,
                7,
                "Expression expected at position 7 in 'name eq'.",
            ),
            (
                "eq 1",
                Kind::Syntax,
                0,
                "Expression expected at position 0 in 'eq 1'.",
            ),
            (
                "name eq 'x' and",
                Kind::Syntax,
                15,
                "Expression expected at position 15 in 'name eq 'x' and'.",
            ),
            (
                "()",
                Kind::Syntax,
                1,
                "Expression expected at position 1 in '()'.",
            ),
            (
                "primarycontactid/fullname eq 'x'",
                Kind::Unsupported,
                0,
                "The path 'primarycontactid/fullname' at position 0 in 'primarycontactid/fullname eq 'x'' goes \
                 through a navigation property: navigation paths are not supported by the emulator.",
            ),
            (
                "contact_customer_accounts/any(c: c/fullname eq 'x')",
                Kind::Unsupported,
                0,
                "The path 'contact_customer_accounts/any' at position 0 in \
                 'contact_customer_accounts/any(c: c/fullname eq 'x')' goes through a navigation property: \
                 navigation paths are not supported by the emulator.",
            ),
            (
                "contains(name 'x')",
                Kind::Syntax,
                14,
                "')' or ',' expected at position 14 in 'contains(name 'x')'.",
            ),
            (
                "count in 1",
                Kind::Syntax,
                9,
                "'(' expected at position 9 in 'count in 1'.",
            ),
            (
                "count in ()",
                Kind::Syntax,
                10,
                "Expression expected at position 10 in 'count in ()'.",
            ),
            (
                "count in (1 2)",
                Kind::Syntax,
                12,
                "')' or ',' expected at position 12 in 'count in (1 2)'.",
            ),
            (
                "count in (count)",
                Kind::Syntax,
                10,
                "Syntax error at position 10 in 'count in (count)'.",
            ),
            (
                "day eq 2024-13-01",
                Kind::Syntax,
                7,
                "Unrecognized 'Edm.Date' literal '2024-13-01' at '7' in 'day eq 2024-13-01'.",
            ),
            (
                "at eq 2024-05-01T25:00:00Z",
                Kind::Syntax,
                6,
                "Unrecognized 'Edm.DateTimeOffset' literal '2024-05-01T25:00:00Z' at '6' in \
                 'at eq 2024-05-01T25:00:00Z'.",
            ),
            (
                "at eq 2024-05-01T09:00:00",
                Kind::Syntax,
                6,
                "Unrecognized 'Edm.DateTimeOffset' literal '2024-05-01T09:00:00' at '6' in \
                 'at eq 2024-05-01T09:00:00'.",
            ),
            (
                "clock eq 25:00",
                Kind::Syntax,
                9,
                "Unrecognized 'Edm.TimeOfDay' literal '25:00' at '9' in 'clock eq 25:00'.",
            ),
            (
                "span eq duration'P1X'",
                Kind::Syntax,
                8,
                "Unrecognized 'Edm.Duration' literal 'duration'P1X'' at '8' in 'span eq duration'P1X''.",
            ),
            (
                "span eq duration'PT1H2D'",
                Kind::Syntax,
                8,
                "Unrecognized 'Edm.Duration' literal 'duration'PT1H2D'' at '8' in 'span eq duration'PT1H2D''.",
            ),
            (
                "blob eq binary'%%'",
                Kind::Syntax,
                8,
                "Unrecognized 'Edm.Binary' literal 'binary'%%'' at '8' in 'blob eq binary'%%''.",
            ),
            (
                "count eq 1.x",
                Kind::Syntax,
                11,
                "Syntax error at position 11 in 'count eq 1.x'.",
            ),
            (
                "count eq 1e",
                Kind::Syntax,
                11,
                "Syntax error at position 11 in 'count eq 1e'.",
            ),
            (
                "count eq 12abc",
                Kind::Syntax,
                11,
                "Syntax error at position 11 in 'count eq 12abc'.",
            ),
            (
                "count eq 1.5L",
                Kind::Syntax,
                12,
                "Syntax error at position 12 in 'count eq 1.5L'.",
            ),
            (
                "day eq 2024-05-01x",
                Kind::Syntax,
                17,
                "Syntax error at position 17 in 'day eq 2024-05-01x'.",
            ),
            (
                "name eq foo'x'",
                Kind::Syntax,
                8,
                "Syntax error at position 8 in 'name eq foo'x''.",
            ),
            (
                "id eq guid'6f9619ff-8b86-d011-b42d-00c04fc964ff'",
                Kind::Syntax,
                6,
                "Syntax error at position 6 in 'id eq guid'6f9619ff-8b86-d011-b42d-00c04fc964ff'': \
                 'guid'6f9619ff-8b86-d011-b42d-00c04fc964ff'' is OData v3 syntax; OData v4 writes the value bare.",
            ),
            (
                "blocked eq Microsoft.Dynamics.DataEntities.NoYes''",
                Kind::Syntax,
                11,
                "The string 'Microsoft.Dynamics.DataEntities.NoYes''' is not a valid enumeration type constant.",
            ),
            (
                "blocked eq Microsoft.Dynamics.DataEntities.NoYes",
                Kind::Syntax,
                11,
                "Expression expected at position 11 in 'blocked eq Microsoft.Dynamics.DataEntities.NoYes'.",
            ),
            (
                "length(name) eq 1",
                Kind::Unsupported,
                0,
                "The function 'length' at position 0 in 'length(name) eq 1' is not supported by the emulator.",
            ),
            (
                "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
                Kind::Unsupported,
                0,
                "Bound and service functions ('Microsoft.Dynamics.CRM.Today' at position 0 in \
                 'Microsoft.Dynamics.CRM.Today(PropertyName='createdon')') are not supported by the emulator.",
            ),
            (
                "frobnicate(name)",
                Kind::Invalid,
                0,
                "An unknown function with name 'frobnicate' was found. This may also be a function import or a \
                 key lookup on a navigation property, which is not allowed.",
            ),
            (
                "contains(name)",
                Kind::Invalid,
                0,
                "No function signature for the function with name 'contains' matches the specified arguments. \
                 The function signatures considered are: contains(Edm.String Nullable=true, Edm.String \
                 Nullable=true).",
            ),
            (
                "count add 1 eq 2",
                Kind::Unsupported,
                6,
                "The 'add' operator at position 6 in 'count add 1 eq 2' is not supported by the emulator.",
            ),
            (
                "-count eq 1",
                Kind::Unsupported,
                0,
                "Arithmetic operators ('-' at position 0 in '-count eq 1') are not supported by the emulator.",
            ),
            (
                "name eq @p1",
                Kind::Unsupported,
                8,
                "Parameter aliases (at position 8 in 'name eq @p1') are not supported by the emulator; write the \
                 value in place.",
            ),
            // Positions count chars, not bytes.
            (
                "city eq 'Zürich' = 1",
                Kind::Syntax,
                17,
                "Syntax error: character '=' is not valid at position 17 in 'city eq 'Zürich' = 1'.",
            ),
            (
                "☃ eq 1",
                Kind::Syntax,
                0,
                "Syntax error: character '☃' is not valid at position 0 in '☃ eq 1'.",
            ),
        ];
        let mut wrong = Vec::new();
        for (filter, kind, position, message) in cases {
            let got = parse(filter).expect_err(filter);
            let kind_matches = matches!(
                (kind, &got),
                (Kind::Syntax, FilterError::Syntax { .. })
                    | (Kind::Invalid, FilterError::Invalid { .. })
                    | (Kind::Unsupported, FilterError::Unsupported { .. })
            );
            if !kind_matches || got.position() != *position || got.message() != *message {
                wrong.push(format!("{filter}: {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }

    #[test]
    fn nesting_and_size_are_bounded_to_fit_a_small_stack() {
        let deep = format!("{}count eq 1{}", "(".repeat(150), ")".repeat(150));
        assert!(matches!(
            parse(&deep),
            Err(FilterError::Unsupported { position: 100, .. })
        ));
        let nots = format!("{}active", "not ".repeat(101));
        assert!(matches!(
            parse(&nots),
            Err(FilterError::Unsupported { position: 400, .. })
        ));
        let compares = format!("active{}", " eq true".repeat(250));
        assert!(matches!(parse(&compares), Err(FilterError::Unsupported { .. })));
        let huge = vec!["count eq 1"; 3000].join(" or ");
        assert!(matches!(parse(&huge), Err(FilterError::Unsupported { .. })));
        // The largest accepted trees check, evaluate and drop on a 2 MiB stack (a tokio worker's), even
        // unoptimized.
        let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
            let chain: Vec<_> = (0..2000).map(|i| format!("count eq {i}")).collect();
            let mixed = (0..1000)
                .map(|i| format!("count eq {i} and active"))
                .collect::<Vec<_>>()
                .join(" or ");
            let nested = format!("{}count eq 42{}", "not (".repeat(48), ")".repeat(48));
            let compares = format!("active{}", " eq true".repeat(190));
            [chain.join(" or "), chain.join(" and "), mixed, nested, compares]
                .iter()
                .map(|filter| matches(filter, &row(ROW), Dialect::Generic))
                .collect::<Vec<_>>()
        });
        let results = worker.expect("spawns").join().expect("no stack overflow");
        assert_eq!(results, [true, false, true, true, true]);
    }

    #[test]
    fn order_by_parses_keys_and_directions() {
        let order = parse_order_by("name desc, count,amount asc").expect("parses");
        assert_eq!(
            order.keys(),
            [
                ("name".to_owned(), true),
                ("count".to_owned(), false),
                ("amount".to_owned(), false)
            ]
        );
        assert_eq!(check_order_by(&order, &Entity), Ok(()));
        let unknown = parse_order_by("name, nme desc").expect("parses");
        let err = check_order_by(&unknown, &Entity).expect_err("unknown property");
        assert_eq!(
            (err.position(), err.message()),
            (
                6,
                "Could not find a property named 'nme' on type 'Microsoft.Dynamics.DataEntities.CustomerV3'."
            )
        );
        let errors: &[(&str, usize, &str)] = &[
            ("", 0, "Expression expected at position 0 in ''."),
            ("name,", 5, "Expression expected at position 5 in 'name,'."),
            (
                "name,,count",
                5,
                "Expression expected at position 5 in 'name,,count'.",
            ),
            (
                "name desc desc",
                10,
                "Syntax error at position 10 in 'name desc desc'.",
            ),
            ("name DESC", 5, "Syntax error at position 5 in 'name DESC'."),
            ("'name'", 0, "Syntax error at position 0 in ''name''."),
            (
                "name, name desc",
                6,
                "Duplicate property named 'name' is not supported in '$orderby'.",
            ),
            (
                "tolower(name)",
                0,
                "Ordering by an expression ('tolower(...)' at position 0 in 'tolower(name)') is not supported by \
                 the emulator; order by a property.",
            ),
            (
                "primarycontactid/fullname",
                0,
                "The path 'primarycontactid/fullname' at position 0 in 'primarycontactid/fullname' goes through \
                 a navigation property: navigation paths are not supported by the emulator.",
            ),
        ];
        for (text, position, message) in errors {
            let err = parse_order_by(text).expect_err(text);
            assert_eq!((err.position(), err.message()), (*position, *message), "{text}");
        }
    }

    #[test]
    fn order_by_sorts_multi_key_with_nulls_first() {
        let mut rows: Vec<_> = [
            r#"{"n": 1, "city": "Oslo", "amount": 10.5}"#,
            r#"{"n": 2, "city": null, "amount": 3}"#,
            r#"{"n": 3, "city": "Bergen", "amount": 12345678901234567890.124}"#,
            r#"{"n": 4, "city": "Oslo", "amount": 10.50000000000000000001}"#,
            r#"{"n": 5, "amount": 7}"#,
            r#"{"n": 6, "city": "Bergen", "amount": 12345678901234567890.123456789}"#,
            r#"{"n": 7, "city": "Oslo", "amount": null}"#,
        ]
        .iter()
        .map(|json| row(json))
        .collect();
        let sorted = |rows: &mut Vec<Map<String, Value>>, order: &str| {
            let order = parse_order_by(order).expect("parses");
            rows.sort_by(|a, b| compare_rows(&order, a, b, &Entity));
            rows.iter()
                .map(|r| r.get("n").map(Value::to_string).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(sorted(&mut rows, "city, amount desc"), "5,2,3,6,4,1,7");
        assert_eq!(sorted(&mut rows, "city desc, amount"), "7,1,4,6,3,2,5");
        assert_eq!(sorted(&mut rows, "amount"), "7,2,5,1,4,6,3");
        assert_eq!(sorted(&mut rows, "amount desc"), "3,6,4,1,5,2,7");
    }

    #[test]
    fn compare_values_orders_each_kind() {
        let json = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
        let cmp = |kind, a: &str, b: &str| compare_values(kind, &json(a), &json(b));
        use EdmKind as K;
        use Ordering::{Equal, Greater, Less};
        let cases = [
            (K::String, "null", "\"a\"", Some(Less)),
            (K::String, "\"a\"", "null", Some(Greater)),
            (K::String, "null", "null", Some(Equal)),
            (K::String, "\"B\"", "\"a\"", Some(Less)),
            (K::String, "\"é\"", "\"z\"", Some(Greater)),
            (K::Boolean, "false", "true", Some(Less)),
            (K::Int, "-2", "10", Some(Less)),
            (
                K::Guid,
                "\"6F9619FF-8B86-D011-B42D-00C04FC964FF\"",
                "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\"",
                Some(Equal),
            ),
            (K::Date, "\"2024-05-01\"", "\"2023-12-31\"", Some(Greater)),
            (
                K::DateTimeOffset,
                "\"2024-05-01T09:30:00+02:00\"",
                "\"2024-05-01T07:30:00Z\"",
                Some(Equal),
            ),
            (
                K::DateTimeOffset,
                "\"2024-05-01T00:30:00+01:00\"",
                "\"2024-04-30T23:45:00Z\"",
                Some(Less),
            ),
            (K::TimeOfDay, "\"23:59:59.999\"", "\"00:00\"", Some(Greater)),
            (K::Duration, "\"PT36H\"", "\"P1DT12H\"", Some(Equal)),
            (K::Duration, "\"-PT1S\"", "\"PT0S\"", Some(Less)),
            (K::Enum, "\"No\"", "\"Yes\"", Some(Less)),
            (K::Binary, "\"AQID\"", "\"AQID\"", Some(Equal)),
            (K::Int, "\"x\"", "1", None),
            (
                K::Guid,
                "\"not-a-guid\"",
                "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\"",
                None,
            ),
            (K::Date, "\"2024-02-30\"", "\"2024-02-01\"", None),
            (K::Other, "{\"a\": 1}", "{\"a\": 1}", None),
            (K::Other, "\"a\"", "\"b\"", Some(Less)),
        ];
        for (kind, a, b, expected) in cases {
            assert_eq!(cmp(kind, a, b), expected, "{kind:?} {a} {b}");
        }
    }

    #[test]
    fn unchecked_and_mistyped_values_never_match() {
        let odd = row(r#"{"count": "many", "id": "nope", "at": "yesterday", "name": 5, "active": "yes"}"#);
        for filter in [
            "count eq 1",
            "count ne 1",
            "id eq 6f9619ff-8b86-d011-b42d-00c04fc964ff",
            "at gt 2024-01-01",
            "name eq 'x'",
            "contains(name,'5')",
            "active",
        ] {
            assert!(!matches(filter, &odd, Dialect::Generic), "{filter}");
        }
        // Without check, unknown properties read their JSON as it is.
        let expr = parse("unknown eq 'a' and other gt 1.5").expect("parses");
        assert!(evaluate(
            &expr,
            &row(r#"{"unknown": "a", "other": 2}"#),
            &Entity,
            Dialect::Generic
        ));
    }

    #[test]
    fn evaluate_is_fast_enough_for_large_tables() {
        let expr = parse("contains(name,'brien') and amount gt 100.5 and id ne null").expect("parses");
        check(&expr, &Entity, Dialect::Dataverse).expect("checks");
        let rows: Vec<_> = (0..10_000)
            .map(|i| row(&format!(r#"{{"name": "O'Brien {i}", "amount": {i}.25, "id": "6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#)))
            .collect();
        let hits = rows
            .iter()
            .filter(|r| evaluate(&expr, r, &Entity, Dialect::Dataverse))
            .count();
        assert_eq!(hits, 10_000 - 101);
    }

    // ------------------------------------------------------------------------------------------------------
    // Properties
    // ------------------------------------------------------------------------------------------------------

    const PROPERTIES: &[&str] = &[
        "name", "city", "active", "count", "amount", "ratio", "id", "day", "at", "clock", "span", "blob",
        "blocked", "address",
    ];

    fn json_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "-?[0-9]{1,30}(\\.[0-9]{1,30})?([eE][-+]?[0-9]{1,4})?"
                .prop_map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)),
            any::<String>().prop_map(Value::String),
            concat!(
                "[0-9A-Fa-f-]{30,40}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]{5,15}(Z|[+-][0-9]{2}:[0-9]{2}))?",
                "|-?P[0-9DTHMS.]{0,12}|[0-9:.]{5,14}|INF|-INF|NaN|Yes|No|\\*|[A-Za-z0-9+/=_-]{0,12}"
            )
            .prop_map(Value::String),
            Just(serde_json::json!({"nested": [1, 2]})),
        ]
    }

    fn json_row() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::vec(prop::option::of(json_value()), PROPERTIES.len()).prop_map(|values| {
            PROPERTIES
                .iter()
                .zip(values)
                .filter_map(|(name, value)| Some(((*name).to_owned(), value?)))
                .collect()
        })
    }

    const TOKENS: &[&str] = &[
        "name",
        "count",
        "amount",
        "ratio",
        "active",
        "id",
        "day",
        "at",
        "clock",
        "span",
        "blob",
        "blocked",
        "address",
        "nope",
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "and",
        "or",
        "not",
        "in",
        "has",
        "EQ",
        "(",
        ")",
        ",",
        "'x'",
        "'*x*'",
        "'O''B'",
        "''",
        "'",
        "\"",
        "=",
        "1",
        "-1",
        "1.5",
        "1e3",
        "1.5M",
        "12L",
        "INF",
        "true",
        "null",
        "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "2024-05-01",
        "2024-05-01T09:30:00Z",
        "09:30",
        "duration'P1D'",
        "binary'AQID'",
        "Microsoft.Dynamics.DataEntities.NoYes'Yes'",
        "NoYes'No'",
        "contains(",
        "startswith(",
        "endswith(",
        "tolower(",
        "toupper(",
        "length(",
        "a/b",
        "@p",
        "ü",
        "-",
    ];

    fn token_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..16).prop_map(|tokens| tokens.join(" "))
    }

    const FILTERS: &[&str] = &[
        "name eq 'O''Brien' or city ne 'x'",
        "name eq '*x*' or name ne 'a*' or name eq '*'",
        "contains(name,'ü') or startswith(city,'Z') or endswith(name,'s')",
        "count gt 1 or count le -5 or amount eq 12345678901234567890.123 or ratio lt 1e300",
        "ratio eq NaN or ratio ne INF or amount in (1, 2.5, -3e2)",
        "active or not active or active eq null",
        "id eq 6f9619ff-8b86-d011-b42d-00c04fc964ff or id ne null",
        "day ge 2024-05-01 or at lt 2024-05-01T09:30:00.123+05:30 or at gt 2024-05-01",
        "clock lt 12:00 or span gt duration'-P1DT2H3M4.5S'",
        "blob eq binary'AQID' or blocked eq Microsoft.Dynamics.DataEntities.NoYes'Yes' or blocked eq 'No'",
        "address eq null or name eq city or count eq amount",
    ];

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse(&text);
            let _ = parse_order_by(&text);
        }

        #[test]
        fn parse_check_evaluate_never_panic_on_token_soup(text in token_soup(), row in json_row()) {
            if let Ok(expr) = parse(&text) {
                for dialect in [Dialect::Generic, Dialect::Dataverse, Dialect::FinOps] {
                    let _ = check(&expr, &Entity, dialect);
                    let _ = evaluate(&expr, &row, &Entity, dialect);
                }
            }
            if let Ok(order) = parse_order_by(&text) {
                let _ = compare_rows(&order, &row, &row, &Entity);
            }
        }

        #[test]
        fn evaluate_never_panics_on_arbitrary_rows(row in json_row(), other in json_row()) {
            for filter in FILTERS {
                let expr = parse(filter).expect("fixed filters parse");
                for dialect in [Dialect::Generic, Dialect::Dataverse, Dialect::FinOps] {
                    prop_assert_eq!(check(&expr, &Entity, dialect), Ok(()));
                    let _ = evaluate(&expr, &row, &Entity, dialect);
                }
            }
            let order = parse_order_by(&PROPERTIES.join(",")).expect("parses");
            let forward = compare_rows(&order, &row, &other, &Entity);
            prop_assert_eq!(compare_rows(&order, &other, &row, &Entity), forward.reverse());
        }

        #[test]
        fn exact_comparison_agrees_with_rust_decimal(
            a in (any::<i64>(), 0..=18u32),
            b in (any::<i64>(), 0..=18u32),
            exponent in -5..=5i32,
        ) {
            let (x, y) = (rust_decimal::Decimal::new(a.0, a.1), rust_decimal::Decimal::new(b.0, b.1));
            let json = |text: String| serde_json::from_str::<Value>(&text).expect("decimal text is JSON");
            prop_assert_eq!(compare_values(EdmKind::Decimal, &json(x.to_string()), &json(y.to_string())), Some(x.cmp(&y)));
            // The same values in scientific notation.
            let scientific = |d: rust_decimal::Decimal| {
                let power = rust_decimal::Decimal::from(10i64.pow(exponent.unsigned_abs()));
                let scaled = if exponent >= 0 { d / power } else { d * power };
                format!("{scaled}e{exponent}")
            };
            let (sx, sy) = (scientific(x), scientific(y));
            prop_assert_eq!(compare_values(EdmKind::Decimal, &json(sx), &json(sy)), Some(x.cmp(&y)));
        }
    }
}
