//! Every Rust name the generator writes comes from here: casing, keywords, leading digits, renames,
//! escapes, and collision checks. A collision is an error that names both sources and the
//! `[codegen.rename]` (or `[codegen.services]`) key that resolves it; names are never made unique by
//! silent counters.
//!
//! # The naming rule
//!
//! 1. **Characters.** A character of a metadata name is kept in a type, variant or field name when it
//!    is an ASCII letter or digit, or a non-ASCII character that Rust accepts in identifiers
//!    (`XID_Continue`, Unicode 14, so every rustc since 1.63 accepts it) and that Unicode
//!    normalisation leaves alone (canonical combining class 0, NFC quick check *Yes*, not default
//!    ignorable): `Ä`, `日本`, `Straße` stay as they are. Because every kept character is already in
//!    NFC, rustc's NFC normalisation of identifiers never merges two generated names.
//! 2. **Separators and escapes.** Other ASCII characters (`_`, `-`, `.`, `/`, space, ...) separate
//!    words. Any other character (bidi and other controls such as U+202E or U+2066, invisible
//!    characters, combining marks, emoji, punctuation) becomes the word `u` + its lowercase hex code
//!    (`a\u{202E}b` -> `a_u202e_b` / `AU202eB`), so distinct sources stay distinct.
//! 3. **Case.** Words are split as heck does (lower -> upper transitions, `HTTPServer` -> `HTTP`,
//!    `Server`); fields and modules are snake_case, types and variants PascalCase, using Unicode
//!    lower/upper case (a character whose case mapping is not kept by rule 1 is escaped as in rule 2).
//! 4. **Start.** A name that starts with a digit (or another character that cannot start an
//!    identifier) gets `_` (fields, modules) or `N` (types, variants) in front; an empty name becomes
//!    `field` / `Unnamed`.
//! 5. **Keywords.** Rust keywords (strict, reserved and 2024 `gen`) get a trailing `_` (`type_`,
//!    `self_`, `Self_`); type names `Option`, `Result`, `String`, `Vec`, `Box`, `Some`, `None`, `Ok`,
//!    `Err` too.
//! 6. **Modules and files** (`service` folders and one file per type) are ASCII only, since rustc does
//!    not load non-ASCII module files and file systems disagree on Unicode: every non-ASCII character
//!    is escaped as in rule 2 (`Kunde日本` -> `kunde_u65e5_u672c.rs`). Besides keywords, `lib`,
//!    `main`, `mod`, the generator's own submodules `complex` and `enums` (rule 8) and the Windows device names (`con`, `prn`, `aux`, `nul`, `com0`-`com9`,
//!    `lpt0`-`lpt9`) get a trailing `_`. A module name longer than 197 bytes (a 200-byte file name
//!    with `.rs`) is cut to 180 bytes plus `_` and 16 hex digits of the FNV-1a hash of the whole name.
//! 7. **Collisions.** Two sources that get one name in a scope (types of a module, fields of a type,
//!    variants, modules of the crate, files of a module), also when the names differ only by case
//!    (Unicode upper case is compared: case-insensitive file systems, and the derive's column
//!    constants are the upper-cased field names), stop generation with an error naming both.
//! 8. **Places of the generator's own making never collide.** Each kind of type has its own scope
//!    and folder: entity types in the service module (`fo::CustomerV3`, `fo/customer_v3.rs`), complex
//!    types in its `complex` submodule, enum types in its `enums` submodule (`fo::enums::NoYes`,
//!    re-exported as `fo::NoYes` while no entity type has that exact name), a Dataverse option-set
//!    enum in its table's file. The variant the generator adds for values the metadata does not
//!    list is `Unrecognized` (enum types) / `Unknown` (option sets), or `Unrecognized_` / `Unknown_`
//!    when a member already has that name: rule 5 is the only one that ends a name with `_`, so the
//!    fallback never equals a member. A collision error therefore always comes from the metadata
//!    (two names of one kind in one namespace) and a `[codegen.rename]` key fixes it.

use std::collections::BTreeMap;

/// Words Rust reserves (strict and reserved, 2024 edition, plus `gen`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// Type names generated code uses unqualified, or that would confuse readers when shadowed.
const RESERVED_TYPES: &[&str] = &[
    "Self", "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err",
];

/// Module (and so file) names that clash with a crate's own files or with Windows device names.
const RESERVED_MODULES: &[&str] = &[
    "lib", "main", "mod", "complex", "enums", "con", "prn", "aux", "nul", "com0", "com1", "com2", "com3",
    "com4", "com5", "com6", "com7", "com8", "com9", "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6",
    "lpt7", "lpt8", "lpt9",
];

/// The longest module name: a file name of at most 200 bytes with `.rs`.
pub const MAX_MODULE_LEN: usize = 197;

/// Whether a non-ASCII character may appear in an identifier: `Some(can start one)`.
fn unicode_ident(c: char) -> Option<bool> {
    let c = c as u32;
    let index = IDENT_CHARS.partition_point(|&(_, last, _)| last < c);
    match IDENT_CHARS.get(index) {
        Some(&(first, _, start)) if first <= c => Some(start),
        _ => None,
    }
}

/// Whether `c` is kept in an identifier (rule 1); ASCII letters and digits only when `ascii`.
fn kept(c: char, ascii: bool) -> bool {
    c.is_ascii_alphanumeric() || (!ascii && !c.is_ascii() && unicode_ident(c).is_some())
}

/// Whether `c` may start an identifier (besides `_`).
fn starts_ident(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && unicode_ident(c) == Some(true))
}

/// Rule 2: separators become spaces, other characters that are not kept become ` u<hex> `.
fn words(name: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if kept(c, ascii) {
            out.push(c);
        } else if c.is_ascii() {
            out.push(' ');
        } else {
            out.push_str(&format!(" u{:x} ", c as u32));
        }
    }
    out
}

/// The words of `s` (split on spaces, then at case transitions), as heck 0.5 splits them.
fn split_words(s: &str) -> Vec<&str> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }
    let mut out = Vec::new();
    for word in s.split(' ') {
        let mut chars = word.char_indices().peekable();
        let mut init = 0;
        let mut mode = Mode::Boundary;
        while let Some((i, c)) = chars.next() {
            if let Some(&(next_i, next)) = chars.peek() {
                let next_mode = if c.is_lowercase() {
                    Mode::Lower
                } else if c.is_uppercase() {
                    Mode::Upper
                } else {
                    mode
                };
                if next_mode == Mode::Lower && next.is_uppercase() {
                    out.push(&word[init..next_i]);
                    init = next_i;
                    mode = Mode::Boundary;
                } else if mode == Mode::Upper && c.is_uppercase() && next.is_lowercase() {
                    out.push(&word[init..i]);
                    init = i;
                    mode = Mode::Boundary;
                } else {
                    mode = next_mode;
                }
            } else {
                out.push(&word[init..]);
                break;
            }
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

/// Lower case as heck writes it (a final `Σ` is `ς`).
fn lower(word: &str, out: &mut String) {
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == 'Σ' && chars.peek().is_none() {
            out.push('ς');
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// Rule 3's second half: characters the case mapping produced that rule 1 does not keep.
/// Also escapes a character whose upper case is not kept: `derive(Entity)` names its column constants
/// by the upper-cased field name.
fn escape_unkept(s: String, ascii: bool, pascal: bool) -> String {
    let ok =
        |c: char| c == '_' || (kept(c, ascii) && (c.is_ascii() || c.to_uppercase().all(|u| kept(u, ascii))));
    if s.chars().all(ok) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if ok(c) {
            out.push(c);
        } else if pascal {
            out.push_str(&format!("U{:x}", c as u32));
        } else {
            out.push_str(&format!("_u{:x}_", c as u32));
        }
    }
    if pascal {
        return out;
    }
    // One `_` between words, none at the ends (the start rule adds one where needed).
    out.split('_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn snake_case(name: &str, ascii: bool) -> String {
    let prepared = words(name, ascii);
    let mut s = String::with_capacity(prepared.len() + 4);
    for (i, word) in split_words(&prepared).into_iter().enumerate() {
        if i > 0 {
            s.push('_');
        }
        lower(word, &mut s);
    }
    let mut s = escape_unkept(s, ascii, false);
    if s.is_empty() {
        s = "field".into();
    }
    if !s.starts_with(|c: char| c == '_' || starts_ident(c)) {
        s.insert(0, '_');
    }
    s
}

/// A snake_case identifier (fields), keyword- and digit-safe (see the module docs for the rule).
pub fn snake(name: &str) -> String {
    let mut s = snake_case(name, false);
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A PascalCase identifier (types, variants), keyword- and digit-safe.
pub fn pascal(name: &str) -> String {
    let prepared = words(name, false);
    let mut s = String::with_capacity(prepared.len());
    for word in split_words(&prepared) {
        let mut chars = word.char_indices();
        if let Some((_, c)) = chars.next() {
            s.extend(c.to_uppercase());
            if let Some((i, _)) = chars.next() {
                lower(&word[i..], &mut s);
            }
        }
    }
    let mut s = escape_unkept(s, false, true);
    if s.is_empty() {
        s = "Unnamed".into();
    }
    if !s.starts_with(|c: char| c == '_' || starts_ident(c)) {
        s.insert(0, 'N');
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED_TYPES.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// FNV-1a, 64 bits: a stable hash for shortened file names.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A module (folder or file) name: ASCII snake_case, keyword-, digit- and reserved-name-safe, at most
/// [`MAX_MODULE_LEN`] bytes (rule 6 of the module docs).
pub fn module(name: &str) -> String {
    let mut s = snake_case(name, true);
    if KEYWORDS.contains(&s.as_str()) || RESERVED_MODULES.contains(&s.as_str()) {
        s.push('_');
    }
    if s.len() > MAX_MODULE_LEN {
        let hash = fnv1a(&s);
        s.truncate(180);
        s.push_str(&format!("_{hash:016x}"));
    }
    s
}

/// A collision between two generated names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} `{rust}` would be generated for both `{first}` and `{second}`; give one of them another name in dualsync.toml:\n[codegen.{section}]\n\"{key}\" = \"{suggestion}\""
)]
pub struct Collision {
    pub what: &'static str,
    /// The dualsync.toml table that fixes it: `rename` (types, fields, variants) or `services`
    /// (modules of namespaces).
    pub section: &'static str,
    pub rust: String,
    pub first: String,
    pub second: String,
    /// The `[codegen.rename]` key that renames `second`.
    pub key: String,
    pub suggestion: String,
}

/// The key names are compared by: Unicode upper case (case-insensitive file systems; column constants).
fn fold(name: &str) -> String {
    name.to_uppercase()
}

/// Hands out names within one scope (a module's types, a struct's fields, an enum's variants), applying
/// renames and detecting collisions, including ones that differ only by case (file names on
/// case-insensitive file systems).
pub struct Scope<'r> {
    what: &'static str,
    section: &'static str,
    renames: &'r BTreeMap<String, String>,
    taken: BTreeMap<String, (String, String)>,
}

impl<'r> Scope<'r> {
    /// A scope for `what` (e.g. "type", "field") using `renames` (from `[codegen.rename]`).
    pub fn new(what: &'static str, renames: &'r BTreeMap<String, String>) -> Self {
        Self::in_section(what, "rename", renames)
    }

    /// A scope whose renames come from the dualsync.toml table `[codegen.<section>]`.
    pub fn in_section(
        what: &'static str,
        section: &'static str,
        renames: &'r BTreeMap<String, String>,
    ) -> Self {
        Scope {
            what,
            section,
            renames,
            taken: BTreeMap::new(),
        }
    }

    /// Reserves a name the generator itself uses in this scope.
    pub fn reserve(&mut self, rust: &str, source: &str) {
        self.taken
            .insert(fold(rust), (rust.to_string(), source.to_string()));
    }

    /// The Rust name for `source` (a wire or qualified name, for messages), found under `key` in the
    /// renames, otherwise made by `convert` from `wire`.
    pub fn name(
        &mut self,
        key: &str,
        source: &str,
        wire: &str,
        convert: fn(&str) -> String,
    ) -> Result<String, Box<Collision>> {
        let rust = match self.renames.get(key) {
            Some(renamed) => convert(renamed),
            None => convert(wire),
        };
        let folded = fold(&rust);
        if let Some((existing, first)) = self.taken.get(&folded) {
            return Err(Box::new(Collision {
                what: self.what,
                section: self.section,
                rust: if existing == &rust {
                    rust.clone()
                } else {
                    format!("{existing}` / `{rust}")
                },
                first: first.clone(),
                second: source.to_string(),
                key: key.to_string(),
                suggestion: format!("{rust}2"),
            }));
        }
        self.taken.insert(folded, (rust.clone(), source.to_string()));
        Ok(rust)
    }
}

/// Non-ASCII characters kept in identifiers (rule 1 of the module docs): `(first, last, can start an
/// identifier)`. Generated from Unicode 14 (`XID_Continue`, canonical combining class 0, NFC quick
/// check *Yes*, not `Default_Ignorable_Code_Point`); identifier and normalisation stability make it
/// valid for every later Unicode version.
#[rustfmt::skip]
const IDENT_CHARS: &[(u32, u32, bool)] = &[
    (0xAA, 0xAA, true), (0xB5, 0xB5, true), (0xB7, 0xB7, false), (0xBA, 0xBA, true),
    (0xC0, 0xD6, true), (0xD8, 0xF6, true), (0xF8, 0x2C1, true), (0x2C6, 0x2D1, true),
    (0x2E0, 0x2E4, true), (0x2EC, 0x2EC, true), (0x2EE, 0x2EE, true), (0x370, 0x373, true),
    (0x376, 0x377, true), (0x37B, 0x37D, true), (0x37F, 0x37F, true), (0x386, 0x386, true),
    (0x388, 0x38A, true), (0x38C, 0x38C, true), (0x38E, 0x3A1, true), (0x3A3, 0x3F5, true),
    (0x3F7, 0x481, true), (0x48A, 0x52F, true), (0x531, 0x556, true), (0x559, 0x559, true),
    (0x560, 0x588, true), (0x5D0, 0x5EA, true), (0x5EF, 0x5F2, true), (0x620, 0x64A, true),
    (0x660, 0x669, false), (0x66E, 0x66F, true), (0x671, 0x6D3, true), (0x6D5, 0x6D5, true),
    (0x6E5, 0x6E6, true), (0x6EE, 0x6EF, true), (0x6F0, 0x6F9, false), (0x6FA, 0x6FC, true),
    (0x6FF, 0x6FF, true), (0x710, 0x710, true), (0x712, 0x72F, true), (0x74D, 0x7A5, true),
    (0x7A6, 0x7B0, false), (0x7B1, 0x7B1, true), (0x7C0, 0x7C9, false), (0x7CA, 0x7EA, true),
    (0x7F4, 0x7F5, true), (0x7FA, 0x7FA, true), (0x800, 0x815, true), (0x81A, 0x81A, true),
    (0x824, 0x824, true), (0x828, 0x828, true), (0x840, 0x858, true), (0x860, 0x86A, true),
    (0x870, 0x887, true), (0x889, 0x88E, true), (0x8A0, 0x8C9, true), (0x900, 0x903, false),
    (0x904, 0x939, true), (0x93A, 0x93B, false), (0x93D, 0x93D, true), (0x93E, 0x94C, false),
    (0x94E, 0x94F, false), (0x950, 0x950, true), (0x955, 0x957, false), (0x960, 0x961, true),
    (0x962, 0x963, false), (0x966, 0x96F, false), (0x971, 0x980, true), (0x981, 0x983, false),
    (0x985, 0x98C, true), (0x98F, 0x990, true), (0x993, 0x9A8, true), (0x9AA, 0x9B0, true),
    (0x9B2, 0x9B2, true), (0x9B6, 0x9B9, true), (0x9BD, 0x9BD, true), (0x9BF, 0x9C4, false),
    (0x9C7, 0x9C8, false), (0x9CB, 0x9CC, false), (0x9CE, 0x9CE, true), (0x9E0, 0x9E1, true),
    (0x9E2, 0x9E3, false), (0x9E6, 0x9EF, false), (0x9F0, 0x9F1, true), (0x9FC, 0x9FC, true),
    (0xA01, 0xA03, false), (0xA05, 0xA0A, true), (0xA0F, 0xA10, true), (0xA13, 0xA28, true),
    (0xA2A, 0xA30, true), (0xA32, 0xA32, true), (0xA35, 0xA35, true), (0xA38, 0xA39, true),
    (0xA3E, 0xA42, false), (0xA47, 0xA48, false), (0xA4B, 0xA4C, false), (0xA51, 0xA51, false),
    (0xA5C, 0xA5C, true), (0xA66, 0xA71, false), (0xA72, 0xA74, true), (0xA75, 0xA75, false),
    (0xA81, 0xA83, false), (0xA85, 0xA8D, true), (0xA8F, 0xA91, true), (0xA93, 0xAA8, true),
    (0xAAA, 0xAB0, true), (0xAB2, 0xAB3, true), (0xAB5, 0xAB9, true), (0xABD, 0xABD, true),
    (0xABE, 0xAC5, false), (0xAC7, 0xAC9, false), (0xACB, 0xACC, false), (0xAD0, 0xAD0, true),
    (0xAE0, 0xAE1, true), (0xAE2, 0xAE3, false), (0xAE6, 0xAEF, false), (0xAF9, 0xAF9, true),
    (0xAFA, 0xAFF, false), (0xB01, 0xB03, false), (0xB05, 0xB0C, true), (0xB0F, 0xB10, true),
    (0xB13, 0xB28, true), (0xB2A, 0xB30, true), (0xB32, 0xB33, true), (0xB35, 0xB39, true),
    (0xB3D, 0xB3D, true), (0xB3F, 0xB44, false), (0xB47, 0xB48, false), (0xB4B, 0xB4C, false),
    (0xB55, 0xB55, false), (0xB5F, 0xB61, true), (0xB62, 0xB63, false), (0xB66, 0xB6F, false),
    (0xB71, 0xB71, true), (0xB82, 0xB82, false), (0xB83, 0xB83, true), (0xB85, 0xB8A, true),
    (0xB8E, 0xB90, true), (0xB92, 0xB95, true), (0xB99, 0xB9A, true), (0xB9C, 0xB9C, true),
    (0xB9E, 0xB9F, true), (0xBA3, 0xBA4, true), (0xBA8, 0xBAA, true), (0xBAE, 0xBB9, true),
    (0xBBF, 0xBC2, false), (0xBC6, 0xBC8, false), (0xBCA, 0xBCC, false), (0xBD0, 0xBD0, true),
    (0xBE6, 0xBEF, false), (0xC00, 0xC04, false), (0xC05, 0xC0C, true), (0xC0E, 0xC10, true),
    (0xC12, 0xC28, true), (0xC2A, 0xC39, true), (0xC3D, 0xC3D, true), (0xC3E, 0xC44, false),
    (0xC46, 0xC48, false), (0xC4A, 0xC4C, false), (0xC58, 0xC5A, true), (0xC5D, 0xC5D, true),
    (0xC60, 0xC61, true), (0xC62, 0xC63, false), (0xC66, 0xC6F, false), (0xC80, 0xC80, true),
    (0xC81, 0xC83, false), (0xC85, 0xC8C, true), (0xC8E, 0xC90, true), (0xC92, 0xCA8, true),
    (0xCAA, 0xCB3, true), (0xCB5, 0xCB9, true), (0xCBD, 0xCBD, true), (0xCBE, 0xCC1, false),
    (0xCC3, 0xCC4, false), (0xCC6, 0xCC8, false), (0xCCA, 0xCCC, false), (0xCDD, 0xCDE, true),
    (0xCE0, 0xCE1, true), (0xCE2, 0xCE3, false), (0xCE6, 0xCEF, false), (0xCF1, 0xCF2, true),
    (0xD00, 0xD03, false), (0xD04, 0xD0C, true), (0xD0E, 0xD10, true), (0xD12, 0xD3A, true),
    (0xD3D, 0xD3D, true), (0xD3F, 0xD44, false), (0xD46, 0xD48, false), (0xD4A, 0xD4C, false),
    (0xD4E, 0xD4E, true), (0xD54, 0xD56, true), (0xD5F, 0xD61, true), (0xD62, 0xD63, false),
    (0xD66, 0xD6F, false), (0xD7A, 0xD7F, true), (0xD81, 0xD83, false), (0xD85, 0xD96, true),
    (0xD9A, 0xDB1, true), (0xDB3, 0xDBB, true), (0xDBD, 0xDBD, true), (0xDC0, 0xDC6, true),
    (0xDD0, 0xDD4, false), (0xDD6, 0xDD6, false), (0xDD8, 0xDDE, false), (0xDE6, 0xDEF, false),
    (0xDF2, 0xDF3, false), (0xE01, 0xE30, true), (0xE31, 0xE31, false), (0xE32, 0xE32, true),
    (0xE33, 0xE37, false), (0xE40, 0xE46, true), (0xE47, 0xE47, false), (0xE4C, 0xE4E, false),
    (0xE50, 0xE59, false), (0xE81, 0xE82, true), (0xE84, 0xE84, true), (0xE86, 0xE8A, true),
    (0xE8C, 0xEA3, true), (0xEA5, 0xEA5, true), (0xEA7, 0xEB0, true), (0xEB1, 0xEB1, false),
    (0xEB2, 0xEB2, true), (0xEB3, 0xEB7, false), (0xEBB, 0xEBC, false), (0xEBD, 0xEBD, true),
    (0xEC0, 0xEC4, true), (0xEC6, 0xEC6, true), (0xECC, 0xECD, false), (0xED0, 0xED9, false),
    (0xEDC, 0xEDF, true), (0xF00, 0xF00, true), (0xF20, 0xF29, false), (0xF3E, 0xF3F, false),
    (0xF40, 0xF42, true), (0xF44, 0xF47, true), (0xF49, 0xF4C, true), (0xF4E, 0xF51, true),
    (0xF53, 0xF56, true), (0xF58, 0xF5B, true), (0xF5D, 0xF68, true), (0xF6A, 0xF6C, true),
    (0xF77, 0xF77, false), (0xF79, 0xF79, false), (0xF7E, 0xF7F, false), (0xF88, 0xF8C, true),
    (0xF8D, 0xF92, false), (0xF94, 0xF97, false), (0xF99, 0xF9C, false), (0xF9E, 0xFA1, false),
    (0xFA3, 0xFA6, false), (0xFA8, 0xFAB, false), (0xFAD, 0xFB8, false), (0xFBA, 0xFBC, false),
    (0x1000, 0x102A, true), (0x102B, 0x102D, false), (0x102F, 0x1036, false),
    (0x1038, 0x1038, false), (0x103B, 0x103E, false), (0x103F, 0x103F, true),
    (0x1040, 0x1049, false), (0x1050, 0x1055, true), (0x1056, 0x1059, false),
    (0x105A, 0x105D, true), (0x105E, 0x1060, false), (0x1061, 0x1061, true),
    (0x1062, 0x1064, false), (0x1065, 0x1066, true), (0x1067, 0x106D, false),
    (0x106E, 0x1070, true), (0x1071, 0x1074, false), (0x1075, 0x1081, true),
    (0x1082, 0x108C, false), (0x108E, 0x108E, true), (0x108F, 0x109D, false),
    (0x10A0, 0x10C5, true), (0x10C7, 0x10C7, true), (0x10CD, 0x10CD, true), (0x10D0, 0x10FA, true),
    (0x10FC, 0x115E, true), (0x1176, 0x11A7, true), (0x11C3, 0x1248, true), (0x124A, 0x124D, true),
    (0x1250, 0x1256, true), (0x1258, 0x1258, true), (0x125A, 0x125D, true), (0x1260, 0x1288, true),
    (0x128A, 0x128D, true), (0x1290, 0x12B0, true), (0x12B2, 0x12B5, true), (0x12B8, 0x12BE, true),
    (0x12C0, 0x12C0, true), (0x12C2, 0x12C5, true), (0x12C8, 0x12D6, true), (0x12D8, 0x1310, true),
    (0x1312, 0x1315, true), (0x1318, 0x135A, true), (0x1369, 0x1371, false), (0x1380, 0x138F, true),
    (0x13A0, 0x13F5, true), (0x13F8, 0x13FD, true), (0x1401, 0x166C, true), (0x166F, 0x167F, true),
    (0x1681, 0x169A, true), (0x16A0, 0x16EA, true), (0x16EE, 0x16F8, true), (0x1700, 0x1711, true),
    (0x1712, 0x1713, false), (0x171F, 0x1731, true), (0x1732, 0x1733, false),
    (0x1740, 0x1751, true), (0x1752, 0x1753, false), (0x1760, 0x176C, true), (0x176E, 0x1770, true),
    (0x1772, 0x1773, false), (0x1780, 0x17B3, true), (0x17B6, 0x17D1, false),
    (0x17D3, 0x17D3, false), (0x17D7, 0x17D7, true), (0x17DC, 0x17DC, true),
    (0x17E0, 0x17E9, false), (0x1810, 0x1819, false), (0x1820, 0x1878, true),
    (0x1880, 0x18A8, true), (0x18AA, 0x18AA, true), (0x18B0, 0x18F5, true), (0x1900, 0x191E, true),
    (0x1920, 0x192B, false), (0x1930, 0x1938, false), (0x1946, 0x194F, false),
    (0x1950, 0x196D, true), (0x1970, 0x1974, true), (0x1980, 0x19AB, true), (0x19B0, 0x19C9, true),
    (0x19D0, 0x19DA, false), (0x1A00, 0x1A16, true), (0x1A19, 0x1A1B, false),
    (0x1A20, 0x1A54, true), (0x1A55, 0x1A5E, false), (0x1A61, 0x1A74, false),
    (0x1A80, 0x1A89, false), (0x1A90, 0x1A99, false), (0x1AA7, 0x1AA7, true),
    (0x1B00, 0x1B04, false), (0x1B05, 0x1B33, true), (0x1B36, 0x1B43, false),
    (0x1B45, 0x1B4C, true), (0x1B50, 0x1B59, false), (0x1B80, 0x1B82, false),
    (0x1B83, 0x1BA0, true), (0x1BA1, 0x1BA9, false), (0x1BAC, 0x1BAD, false),
    (0x1BAE, 0x1BAF, true), (0x1BB0, 0x1BB9, false), (0x1BBA, 0x1BE5, true),
    (0x1BE7, 0x1BF1, false), (0x1C00, 0x1C23, true), (0x1C24, 0x1C36, false),
    (0x1C40, 0x1C49, false), (0x1C4D, 0x1C4F, true), (0x1C50, 0x1C59, false),
    (0x1C5A, 0x1C7D, true), (0x1C80, 0x1C88, true), (0x1C90, 0x1CBA, true), (0x1CBD, 0x1CBF, true),
    (0x1CE1, 0x1CE1, false), (0x1CE9, 0x1CEC, true), (0x1CEE, 0x1CF3, true), (0x1CF5, 0x1CF6, true),
    (0x1CF7, 0x1CF7, false), (0x1CFA, 0x1CFA, true), (0x1D00, 0x1DBF, true), (0x1E00, 0x1F15, true),
    (0x1F18, 0x1F1D, true), (0x1F20, 0x1F45, true), (0x1F48, 0x1F4D, true), (0x1F50, 0x1F57, true),
    (0x1F59, 0x1F59, true), (0x1F5B, 0x1F5B, true), (0x1F5D, 0x1F5D, true), (0x1F5F, 0x1F70, true),
    (0x1F72, 0x1F72, true), (0x1F74, 0x1F74, true), (0x1F76, 0x1F76, true), (0x1F78, 0x1F78, true),
    (0x1F7A, 0x1F7A, true), (0x1F7C, 0x1F7C, true), (0x1F80, 0x1FB4, true), (0x1FB6, 0x1FBA, true),
    (0x1FBC, 0x1FBC, true), (0x1FC2, 0x1FC4, true), (0x1FC6, 0x1FC8, true), (0x1FCA, 0x1FCA, true),
    (0x1FCC, 0x1FCC, true), (0x1FD0, 0x1FD2, true), (0x1FD6, 0x1FDA, true), (0x1FE0, 0x1FE2, true),
    (0x1FE4, 0x1FEA, true), (0x1FEC, 0x1FEC, true), (0x1FF2, 0x1FF4, true), (0x1FF6, 0x1FF8, true),
    (0x1FFA, 0x1FFA, true), (0x1FFC, 0x1FFC, true), (0x203F, 0x2040, false),
    (0x2054, 0x2054, false), (0x2071, 0x2071, true), (0x207F, 0x207F, true), (0x2090, 0x209C, true),
    (0x2102, 0x2102, true), (0x2107, 0x2107, true), (0x210A, 0x2113, true), (0x2115, 0x2115, true),
    (0x2118, 0x211D, true), (0x2124, 0x2124, true), (0x2128, 0x2128, true), (0x212C, 0x2139, true),
    (0x213C, 0x213F, true), (0x2145, 0x2149, true), (0x214E, 0x214E, true), (0x2160, 0x2188, true),
    (0x2C00, 0x2CE4, true), (0x2CEB, 0x2CEE, true), (0x2CF2, 0x2CF3, true), (0x2D00, 0x2D25, true),
    (0x2D27, 0x2D27, true), (0x2D2D, 0x2D2D, true), (0x2D30, 0x2D67, true), (0x2D6F, 0x2D6F, true),
    (0x2D80, 0x2D96, true), (0x2DA0, 0x2DA6, true), (0x2DA8, 0x2DAE, true), (0x2DB0, 0x2DB6, true),
    (0x2DB8, 0x2DBE, true), (0x2DC0, 0x2DC6, true), (0x2DC8, 0x2DCE, true), (0x2DD0, 0x2DD6, true),
    (0x2DD8, 0x2DDE, true), (0x3005, 0x3007, true), (0x3021, 0x3029, true), (0x3031, 0x3035, true),
    (0x3038, 0x303C, true), (0x3041, 0x3096, true), (0x309D, 0x309F, true), (0x30A1, 0x30FA, true),
    (0x30FC, 0x30FF, true), (0x3105, 0x312F, true), (0x3131, 0x3163, true), (0x3165, 0x318E, true),
    (0x31A0, 0x31BF, true), (0x31F0, 0x31FF, true), (0x3400, 0x4DBF, true), (0x4E00, 0xA48C, true),
    (0xA4D0, 0xA4FD, true), (0xA500, 0xA60C, true), (0xA610, 0xA61F, true), (0xA620, 0xA629, false),
    (0xA62A, 0xA62B, true), (0xA640, 0xA66E, true), (0xA67F, 0xA69D, true), (0xA6A0, 0xA6EF, true),
    (0xA717, 0xA71F, true), (0xA722, 0xA788, true), (0xA78B, 0xA7CA, true), (0xA7D0, 0xA7D1, true),
    (0xA7D3, 0xA7D3, true), (0xA7D5, 0xA7D9, true), (0xA7F2, 0xA801, true), (0xA802, 0xA802, false),
    (0xA803, 0xA805, true), (0xA807, 0xA80A, true), (0xA80B, 0xA80B, false), (0xA80C, 0xA822, true),
    (0xA823, 0xA827, false), (0xA840, 0xA873, true), (0xA880, 0xA881, false),
    (0xA882, 0xA8B3, true), (0xA8B4, 0xA8C3, false), (0xA8C5, 0xA8C5, false),
    (0xA8D0, 0xA8D9, false), (0xA8F2, 0xA8F7, true), (0xA8FB, 0xA8FB, true), (0xA8FD, 0xA8FE, true),
    (0xA8FF, 0xA909, false), (0xA90A, 0xA925, true), (0xA926, 0xA92A, false),
    (0xA930, 0xA946, true), (0xA947, 0xA952, false), (0xA960, 0xA97C, true),
    (0xA980, 0xA983, false), (0xA984, 0xA9B2, true), (0xA9B4, 0xA9BF, false),
    (0xA9CF, 0xA9CF, true), (0xA9D0, 0xA9D9, false), (0xA9E0, 0xA9E4, true),
    (0xA9E5, 0xA9E5, false), (0xA9E6, 0xA9EF, true), (0xA9F0, 0xA9F9, false),
    (0xA9FA, 0xA9FE, true), (0xAA00, 0xAA28, true), (0xAA29, 0xAA36, false), (0xAA40, 0xAA42, true),
    (0xAA43, 0xAA43, false), (0xAA44, 0xAA4B, true), (0xAA4C, 0xAA4D, false),
    (0xAA50, 0xAA59, false), (0xAA60, 0xAA76, true), (0xAA7A, 0xAA7A, true),
    (0xAA7B, 0xAA7D, false), (0xAA7E, 0xAAAF, true), (0xAAB1, 0xAAB1, true), (0xAAB5, 0xAAB6, true),
    (0xAAB9, 0xAABD, true), (0xAAC0, 0xAAC0, true), (0xAAC2, 0xAAC2, true), (0xAADB, 0xAADD, true),
    (0xAAE0, 0xAAEA, true), (0xAAEB, 0xAAEF, false), (0xAAF2, 0xAAF4, true),
    (0xAAF5, 0xAAF5, false), (0xAB01, 0xAB06, true), (0xAB09, 0xAB0E, true), (0xAB11, 0xAB16, true),
    (0xAB20, 0xAB26, true), (0xAB28, 0xAB2E, true), (0xAB30, 0xAB5A, true), (0xAB5C, 0xAB69, true),
    (0xAB70, 0xABE2, true), (0xABE3, 0xABEA, false), (0xABEC, 0xABEC, false),
    (0xABF0, 0xABF9, false), (0xAC00, 0xD7A3, true), (0xD7B0, 0xD7C6, true), (0xD7CB, 0xD7FB, true),
    (0xFA0E, 0xFA0F, true), (0xFA11, 0xFA11, true), (0xFA13, 0xFA14, true), (0xFA1F, 0xFA1F, true),
    (0xFA21, 0xFA21, true), (0xFA23, 0xFA24, true), (0xFA27, 0xFA29, true), (0xFB00, 0xFB06, true),
    (0xFB13, 0xFB17, true), (0xFB20, 0xFB28, true), (0xFB4F, 0xFBB1, true), (0xFBD3, 0xFC5D, true),
    (0xFC64, 0xFD3D, true), (0xFD50, 0xFD8F, true), (0xFD92, 0xFDC7, true), (0xFDF0, 0xFDF9, true),
    (0xFE33, 0xFE34, false), (0xFE4D, 0xFE4F, false), (0xFE71, 0xFE71, true),
    (0xFE73, 0xFE73, true), (0xFE77, 0xFE77, true), (0xFE79, 0xFE79, true), (0xFE7B, 0xFE7B, true),
    (0xFE7D, 0xFE7D, true), (0xFE7F, 0xFEFC, true), (0xFF10, 0xFF19, false), (0xFF21, 0xFF3A, true),
    (0xFF3F, 0xFF3F, false), (0xFF41, 0xFF5A, true), (0xFF66, 0xFF9D, true),
    (0xFF9E, 0xFF9F, false), (0xFFA1, 0xFFBE, true), (0xFFC2, 0xFFC7, true), (0xFFCA, 0xFFCF, true),
    (0xFFD2, 0xFFD7, true), (0xFFDA, 0xFFDC, true), (0x10000, 0x1000B, true),
    (0x1000D, 0x10026, true), (0x10028, 0x1003A, true), (0x1003C, 0x1003D, true),
    (0x1003F, 0x1004D, true), (0x10050, 0x1005D, true), (0x10080, 0x100FA, true),
    (0x10140, 0x10174, true), (0x10280, 0x1029C, true), (0x102A0, 0x102D0, true),
    (0x10300, 0x1031F, true), (0x1032D, 0x1034A, true), (0x10350, 0x10375, true),
    (0x10380, 0x1039D, true), (0x103A0, 0x103C3, true), (0x103C8, 0x103CF, true),
    (0x103D1, 0x103D5, true), (0x10400, 0x1049D, true), (0x104A0, 0x104A9, false),
    (0x104B0, 0x104D3, true), (0x104D8, 0x104FB, true), (0x10500, 0x10527, true),
    (0x10530, 0x10563, true), (0x10570, 0x1057A, true), (0x1057C, 0x1058A, true),
    (0x1058C, 0x10592, true), (0x10594, 0x10595, true), (0x10597, 0x105A1, true),
    (0x105A3, 0x105B1, true), (0x105B3, 0x105B9, true), (0x105BB, 0x105BC, true),
    (0x10600, 0x10736, true), (0x10740, 0x10755, true), (0x10760, 0x10767, true),
    (0x10780, 0x10785, true), (0x10787, 0x107B0, true), (0x107B2, 0x107BA, true),
    (0x10800, 0x10805, true), (0x10808, 0x10808, true), (0x1080A, 0x10835, true),
    (0x10837, 0x10838, true), (0x1083C, 0x1083C, true), (0x1083F, 0x10855, true),
    (0x10860, 0x10876, true), (0x10880, 0x1089E, true), (0x108E0, 0x108F2, true),
    (0x108F4, 0x108F5, true), (0x10900, 0x10915, true), (0x10920, 0x10939, true),
    (0x10980, 0x109B7, true), (0x109BE, 0x109BF, true), (0x10A00, 0x10A00, true),
    (0x10A01, 0x10A03, false), (0x10A05, 0x10A06, false), (0x10A0C, 0x10A0C, false),
    (0x10A0E, 0x10A0E, false), (0x10A10, 0x10A13, true), (0x10A15, 0x10A17, true),
    (0x10A19, 0x10A35, true), (0x10A60, 0x10A7C, true), (0x10A80, 0x10A9C, true),
    (0x10AC0, 0x10AC7, true), (0x10AC9, 0x10AE4, true), (0x10B00, 0x10B35, true),
    (0x10B40, 0x10B55, true), (0x10B60, 0x10B72, true), (0x10B80, 0x10B91, true),
    (0x10C00, 0x10C48, true), (0x10C80, 0x10CB2, true), (0x10CC0, 0x10CF2, true),
    (0x10D00, 0x10D23, true), (0x10D30, 0x10D39, false), (0x10E80, 0x10EA9, true),
    (0x10EB0, 0x10EB1, true), (0x10F00, 0x10F1C, true), (0x10F27, 0x10F27, true),
    (0x10F30, 0x10F45, true), (0x10F70, 0x10F81, true), (0x10FB0, 0x10FC4, true),
    (0x10FE0, 0x10FF6, true), (0x11000, 0x11002, false), (0x11003, 0x11037, true),
    (0x11038, 0x11045, false), (0x11066, 0x1106F, false), (0x11071, 0x11072, true),
    (0x11073, 0x11074, false), (0x11075, 0x11075, true), (0x11080, 0x11082, false),
    (0x11083, 0x110AF, true), (0x110B0, 0x110B8, false), (0x110C2, 0x110C2, false),
    (0x110D0, 0x110E8, true), (0x110F0, 0x110F9, false), (0x11103, 0x11126, true),
    (0x11128, 0x11132, false), (0x11136, 0x1113F, false), (0x11144, 0x11144, true),
    (0x11145, 0x11146, false), (0x11147, 0x11147, true), (0x11150, 0x11172, true),
    (0x11176, 0x11176, true), (0x11180, 0x11182, false), (0x11183, 0x111B2, true),
    (0x111B3, 0x111BF, false), (0x111C1, 0x111C4, true), (0x111C9, 0x111C9, false),
    (0x111CB, 0x111CC, false), (0x111CE, 0x111D9, false), (0x111DA, 0x111DA, true),
    (0x111DC, 0x111DC, true), (0x11200, 0x11211, true), (0x11213, 0x1122B, true),
    (0x1122C, 0x11234, false), (0x11237, 0x11237, false), (0x1123E, 0x1123E, false),
    (0x11280, 0x11286, true), (0x11288, 0x11288, true), (0x1128A, 0x1128D, true),
    (0x1128F, 0x1129D, true), (0x1129F, 0x112A8, true), (0x112B0, 0x112DE, true),
    (0x112DF, 0x112E8, false), (0x112F0, 0x112F9, false), (0x11300, 0x11303, false),
    (0x11305, 0x1130C, true), (0x1130F, 0x11310, true), (0x11313, 0x11328, true),
    (0x1132A, 0x11330, true), (0x11332, 0x11333, true), (0x11335, 0x11339, true),
    (0x1133D, 0x1133D, true), (0x1133F, 0x11344, false), (0x11347, 0x11348, false),
    (0x1134B, 0x1134C, false), (0x11350, 0x11350, true), (0x1135D, 0x11361, true),
    (0x11362, 0x11363, false), (0x11400, 0x11434, true), (0x11435, 0x11441, false),
    (0x11443, 0x11445, false), (0x11447, 0x1144A, true), (0x11450, 0x11459, false),
    (0x1145F, 0x11461, true), (0x11480, 0x114AF, true), (0x114B1, 0x114B9, false),
    (0x114BB, 0x114BC, false), (0x114BE, 0x114C1, false), (0x114C4, 0x114C5, true),
    (0x114C7, 0x114C7, true), (0x114D0, 0x114D9, false), (0x11580, 0x115AE, true),
    (0x115B0, 0x115B5, false), (0x115B8, 0x115BE, false), (0x115D8, 0x115DB, true),
    (0x115DC, 0x115DD, false), (0x11600, 0x1162F, true), (0x11630, 0x1163E, false),
    (0x11640, 0x11640, false), (0x11644, 0x11644, true), (0x11650, 0x11659, false),
    (0x11680, 0x116AA, true), (0x116AB, 0x116B5, false), (0x116B8, 0x116B8, true),
    (0x116C0, 0x116C9, false), (0x11700, 0x1171A, true), (0x1171D, 0x1172A, false),
    (0x11730, 0x11739, false), (0x11740, 0x11746, true), (0x11800, 0x1182B, true),
    (0x1182C, 0x11838, false), (0x118A0, 0x118DF, true), (0x118E0, 0x118E9, false),
    (0x118FF, 0x11906, true), (0x11909, 0x11909, true), (0x1190C, 0x11913, true),
    (0x11915, 0x11916, true), (0x11918, 0x1192F, true), (0x11931, 0x11935, false),
    (0x11937, 0x11938, false), (0x1193B, 0x1193C, false), (0x1193F, 0x1193F, true),
    (0x11940, 0x11940, false), (0x11941, 0x11941, true), (0x11942, 0x11942, false),
    (0x11950, 0x11959, false), (0x119A0, 0x119A7, true), (0x119AA, 0x119D0, true),
    (0x119D1, 0x119D7, false), (0x119DA, 0x119DF, false), (0x119E1, 0x119E1, true),
    (0x119E3, 0x119E3, true), (0x119E4, 0x119E4, false), (0x11A00, 0x11A00, true),
    (0x11A01, 0x11A0A, false), (0x11A0B, 0x11A32, true), (0x11A33, 0x11A33, false),
    (0x11A35, 0x11A39, false), (0x11A3A, 0x11A3A, true), (0x11A3B, 0x11A3E, false),
    (0x11A50, 0x11A50, true), (0x11A51, 0x11A5B, false), (0x11A5C, 0x11A89, true),
    (0x11A8A, 0x11A98, false), (0x11A9D, 0x11A9D, true), (0x11AB0, 0x11AF8, true),
    (0x11C00, 0x11C08, true), (0x11C0A, 0x11C2E, true), (0x11C2F, 0x11C36, false),
    (0x11C38, 0x11C3E, false), (0x11C40, 0x11C40, true), (0x11C50, 0x11C59, false),
    (0x11C72, 0x11C8F, true), (0x11C92, 0x11CA7, false), (0x11CA9, 0x11CB6, false),
    (0x11D00, 0x11D06, true), (0x11D08, 0x11D09, true), (0x11D0B, 0x11D30, true),
    (0x11D31, 0x11D36, false), (0x11D3A, 0x11D3A, false), (0x11D3C, 0x11D3D, false),
    (0x11D3F, 0x11D41, false), (0x11D43, 0x11D43, false), (0x11D46, 0x11D46, true),
    (0x11D47, 0x11D47, false), (0x11D50, 0x11D59, false), (0x11D60, 0x11D65, true),
    (0x11D67, 0x11D68, true), (0x11D6A, 0x11D89, true), (0x11D8A, 0x11D8E, false),
    (0x11D90, 0x11D91, false), (0x11D93, 0x11D96, false), (0x11D98, 0x11D98, true),
    (0x11DA0, 0x11DA9, false), (0x11EE0, 0x11EF2, true), (0x11EF3, 0x11EF6, false),
    (0x11FB0, 0x11FB0, true), (0x12000, 0x12399, true), (0x12400, 0x1246E, true),
    (0x12480, 0x12543, true), (0x12F90, 0x12FF0, true), (0x13000, 0x1342E, true),
    (0x14400, 0x14646, true), (0x16800, 0x16A38, true), (0x16A40, 0x16A5E, true),
    (0x16A60, 0x16A69, false), (0x16A70, 0x16ABE, true), (0x16AC0, 0x16AC9, false),
    (0x16AD0, 0x16AED, true), (0x16B00, 0x16B2F, true), (0x16B40, 0x16B43, true),
    (0x16B50, 0x16B59, false), (0x16B63, 0x16B77, true), (0x16B7D, 0x16B8F, true),
    (0x16E40, 0x16E7F, true), (0x16F00, 0x16F4A, true), (0x16F4F, 0x16F4F, false),
    (0x16F50, 0x16F50, true), (0x16F51, 0x16F87, false), (0x16F8F, 0x16F92, false),
    (0x16F93, 0x16F9F, true), (0x16FE0, 0x16FE1, true), (0x16FE3, 0x16FE3, true),
    (0x16FE4, 0x16FE4, false), (0x17000, 0x187F7, true), (0x18800, 0x18CD5, true),
    (0x18D00, 0x18D08, true), (0x1AFF0, 0x1AFF3, true), (0x1AFF5, 0x1AFFB, true),
    (0x1AFFD, 0x1AFFE, true), (0x1B000, 0x1B122, true), (0x1B150, 0x1B152, true),
    (0x1B164, 0x1B167, true), (0x1B170, 0x1B2FB, true), (0x1BC00, 0x1BC6A, true),
    (0x1BC70, 0x1BC7C, true), (0x1BC80, 0x1BC88, true), (0x1BC90, 0x1BC99, true),
    (0x1BC9D, 0x1BC9D, false), (0x1CF00, 0x1CF2D, false), (0x1CF30, 0x1CF46, false),
    (0x1D400, 0x1D454, true), (0x1D456, 0x1D49C, true), (0x1D49E, 0x1D49F, true),
    (0x1D4A2, 0x1D4A2, true), (0x1D4A5, 0x1D4A6, true), (0x1D4A9, 0x1D4AC, true),
    (0x1D4AE, 0x1D4B9, true), (0x1D4BB, 0x1D4BB, true), (0x1D4BD, 0x1D4C3, true),
    (0x1D4C5, 0x1D505, true), (0x1D507, 0x1D50A, true), (0x1D50D, 0x1D514, true),
    (0x1D516, 0x1D51C, true), (0x1D51E, 0x1D539, true), (0x1D53B, 0x1D53E, true),
    (0x1D540, 0x1D544, true), (0x1D546, 0x1D546, true), (0x1D54A, 0x1D550, true),
    (0x1D552, 0x1D6A5, true), (0x1D6A8, 0x1D6C0, true), (0x1D6C2, 0x1D6DA, true),
    (0x1D6DC, 0x1D6FA, true), (0x1D6FC, 0x1D714, true), (0x1D716, 0x1D734, true),
    (0x1D736, 0x1D74E, true), (0x1D750, 0x1D76E, true), (0x1D770, 0x1D788, true),
    (0x1D78A, 0x1D7A8, true), (0x1D7AA, 0x1D7C2, true), (0x1D7C4, 0x1D7CB, true),
    (0x1D7CE, 0x1D7FF, false), (0x1DA00, 0x1DA36, false), (0x1DA3B, 0x1DA6C, false),
    (0x1DA75, 0x1DA75, false), (0x1DA84, 0x1DA84, false), (0x1DA9B, 0x1DA9F, false),
    (0x1DAA1, 0x1DAAF, false), (0x1DF00, 0x1DF1E, true), (0x1E100, 0x1E12C, true),
    (0x1E137, 0x1E13D, true), (0x1E140, 0x1E149, false), (0x1E14E, 0x1E14E, true),
    (0x1E290, 0x1E2AD, true), (0x1E2C0, 0x1E2EB, true), (0x1E2F0, 0x1E2F9, false),
    (0x1E7E0, 0x1E7E6, true), (0x1E7E8, 0x1E7EB, true), (0x1E7ED, 0x1E7EE, true),
    (0x1E7F0, 0x1E7FE, true), (0x1E800, 0x1E8C4, true), (0x1E900, 0x1E943, true),
    (0x1E94B, 0x1E94B, true), (0x1E950, 0x1E959, false), (0x1EE00, 0x1EE03, true),
    (0x1EE05, 0x1EE1F, true), (0x1EE21, 0x1EE22, true), (0x1EE24, 0x1EE24, true),
    (0x1EE27, 0x1EE27, true), (0x1EE29, 0x1EE32, true), (0x1EE34, 0x1EE37, true),
    (0x1EE39, 0x1EE39, true), (0x1EE3B, 0x1EE3B, true), (0x1EE42, 0x1EE42, true),
    (0x1EE47, 0x1EE47, true), (0x1EE49, 0x1EE49, true), (0x1EE4B, 0x1EE4B, true),
    (0x1EE4D, 0x1EE4F, true), (0x1EE51, 0x1EE52, true), (0x1EE54, 0x1EE54, true),
    (0x1EE57, 0x1EE57, true), (0x1EE59, 0x1EE59, true), (0x1EE5B, 0x1EE5B, true),
    (0x1EE5D, 0x1EE5D, true), (0x1EE5F, 0x1EE5F, true), (0x1EE61, 0x1EE62, true),
    (0x1EE64, 0x1EE64, true), (0x1EE67, 0x1EE6A, true), (0x1EE6C, 0x1EE72, true),
    (0x1EE74, 0x1EE77, true), (0x1EE79, 0x1EE7C, true), (0x1EE7E, 0x1EE7E, true),
    (0x1EE80, 0x1EE89, true), (0x1EE8B, 0x1EE9B, true), (0x1EEA1, 0x1EEA3, true),
    (0x1EEA5, 0x1EEA9, true), (0x1EEAB, 0x1EEBB, true), (0x1FBF0, 0x1FBF9, false),
    (0x20000, 0x2A6DF, true), (0x2A700, 0x2B738, true), (0x2B740, 0x2B81D, true),
    (0x2B820, 0x2CEA1, true), (0x2CEB0, 0x2EBE0, true), (0x30000, 0x3134A, true),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_keywords_and_digits() {
        assert_eq!(snake("CustomerAccount"), "customer_account");
        assert_eq!(snake("dataAreaId"), "data_area_id");
        assert_eq!(snake("_parentcustomerid_value"), "parentcustomerid_value");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("gen"), "gen_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(snake("crate"), "crate_");
        assert_eq!(snake("super"), "super_");
        assert_eq!(snake("1stLine"), "_1st_line");
        assert_eq!(snake("Address/City"), "address_city");
        assert_eq!(pascal("account"), "Account");
        assert_eq!(pascal("msdyn_customergroup"), "MsdynCustomergroup");
        assert_eq!(pascal("NoYes"), "NoYes");
        assert_eq!(pascal("Self"), "Self_");
        assert_eq!(pascal("option"), "Option_");
        assert_eq!(pascal("3DModel"), "N3dModel");
        assert_eq!(pascal(""), "Unnamed");
    }

    #[test]
    fn collisions_name_both_sources_and_the_fix() {
        let renames = BTreeMap::new();
        let mut scope = Scope::new("field", &renames);
        scope.name("NS.T/FooBar", "FooBar", "FooBar", snake).unwrap();
        let error = scope
            .name("NS.T/foo_bar", "foo_bar", "foo_bar", snake)
            .unwrap_err();
        assert_eq!(error.rust, "foo_bar");
        let message = error.to_string();
        assert!(message.contains("`FooBar` and `foo_bar`"), "{message}");
        assert!(message.contains("\"NS.T/foo_bar\" = \"foo_bar2\""), "{message}");
    }

    #[test]
    fn names_differing_only_by_case_collide() {
        let renames = BTreeMap::new();
        let mut scope = Scope::new("type", &renames);
        scope.name("NS.Status", "NS.Status", "Status", pascal).unwrap();
        let error = scope
            .name("NS.STATUS", "NS.STATUS", "STATUS", pascal)
            .unwrap_err();
        assert!(error.to_string().contains("NS.Status"), "{error}");
    }

    #[test]
    fn renames_resolve_collisions() {
        let renames = BTreeMap::from([("NS.T/foo_bar".to_string(), "foo_bar_raw".to_string())]);
        let mut scope = Scope::new("field", &renames);
        assert_eq!(
            scope.name("NS.T/FooBar", "FooBar", "FooBar", snake).unwrap(),
            "foo_bar"
        );
        assert_eq!(
            scope.name("NS.T/foo_bar", "foo_bar", "foo_bar", snake).unwrap(),
            "foo_bar_raw"
        );
    }

    #[test]
    fn unicode_letters_are_kept_and_other_characters_escaped() {
        assert_eq!(snake("Ä"), "ä");
        assert_eq!(pascal("Ä"), "Ä");
        assert_eq!(snake("日本"), "日本");
        assert_eq!(pascal("日本"), "日本");
        assert_eq!(snake("StraßeNr"), "straße_nr");
        assert_eq!(pascal("größe"), "Größe");
        assert_eq!(snake("a\u{202E}b"), "a_u202e_b");
        assert_eq!(pascal("a\u{202E}b"), "AU202eB");
        assert_eq!(snake("\u{2066}"), "u2066");
        assert_eq!(snake("e\u{301}"), "e_u301");
        assert_ne!(snake("e\u{301}"), snake("é"));
        assert_eq!(snake("\u{200B}x"), "u200b_x");
        assert_eq!(snake("😀"), "u1f600");
        // An Arabic-Indic digit may continue but not start an identifier.
        assert_eq!(snake("\u{661}x"), "_\u{661}x");
        // Case mappings that leave rule 1 are escaped too: `İ` lower-cases to `i` + U+0307, `ǰ`
        // upper-cases (for the column constant) to `J` + U+030C.
        assert_eq!(snake("İstanbul"), "i_u307_stanbul");
        assert_eq!(snake("ǰ"), "u1f0");
        assert_eq!(pascal("\u{661}x"), "N\u{661}x");
        for name in ["Ä", "日本", "a\u{202E}b", "\u{661}", "ǰ", "İstanbul", "ŉ", "ﬀ"] {
            for ident in [snake(name), pascal(name)] {
                assert!(
                    syn::parse_str::<syn::Ident>(&ident).is_ok(),
                    "{name:?} -> {ident:?}"
                );
                assert!(
                    syn::parse_str::<syn::Ident>(&ident.to_uppercase()).is_ok(),
                    "{name:?} -> {ident:?} (upper case)"
                );
            }
        }
    }

    #[test]
    fn modules_are_ascii_and_never_reserved() {
        assert_eq!(module("lib"), "lib_");
        assert_eq!(module("Main"), "main_");
        assert_eq!(module("mod"), "mod_");
        assert_eq!(module("CON"), "con_");
        assert_eq!(module("self"), "self_");
        assert_eq!(module("TripPin"), "trip_pin");
        assert_eq!(module("Kunde日本"), "kunde_u65e5_u672c");
        assert_eq!(module("Ä"), "uc4");
        assert_ne!(module("日本"), module("Ä"));
        let long = module(&"x".repeat(2000));
        assert_eq!(long.len(), MAX_MODULE_LEN);
        assert_eq!(long, module(&"x".repeat(2000)), "deterministic");
        assert_ne!(long, module(&"x".repeat(1999)));
    }

    proptest::proptest! {
        #[test]
        fn ascii_names_are_cased_as_heck_does(name in "[ -~]{0,24}") {
            use heck::{ToSnakeCase, ToUpperCamelCase};
            let spaced: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect();
            proptest::prop_assert_eq!(snake_case(&name, false), {
                let mut s = spaced.to_snake_case();
                if s.is_empty() { s = "field".into(); }
                if s.starts_with(|c: char| c.is_ascii_digit()) { s.insert(0, '_'); }
                s
            });
            let mut p = spaced.to_upper_camel_case();
            if p.is_empty() { p = "Unnamed".into(); }
            if p.starts_with(|c: char| c.is_ascii_digit()) { p.insert(0, 'N'); }
            if KEYWORDS.contains(&p.as_str()) || RESERVED_TYPES.contains(&p.as_str()) { p.push('_'); }
            proptest::prop_assert_eq!(pascal(&name), p);
        }
    }
}
