//! `fo_filter` / `dv_filter`: parsed at compile time in the OData `$filter` grammar that Dataverse and
//! F&O accept (comparisons, `and` / `or` / `not`, parentheses, `in (..)`, the string and date functions,
//! literals: `'text'` with `''` for a quote, numbers, `true` / `false` / `null`, GUIDs, dates and
//! times, enum members `Namespace.Type'Member'`, `duration'..'`). The columns a filter names come back
//! so the derive can check each against its entity; the mistakes people make (`=`, `==`, `!=`, `&&`,
//! `"double quotes"`) get an error that says what to write instead.

/// A token of filter text.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    /// A qualified name followed by a quoted member: `Ns.Type'Member'`, `duration'P1D'`.
    Typed(String),
    Text,
    Number,
    Open,
    Close,
    Comma,
    Slash,
    Bracket(char),
    Equals,
}

const FUNCTIONS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "length",
    "indexof",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "concat",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "fractionalseconds",
    "date",
    "time",
    "now",
    "round",
    "floor",
    "ceiling",
    "cast",
    "isof",
];

const COMPARISONS: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le", "has"];

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '/' => {
                out.push(Token::Slash);
                i += 1;
            }
            '[' | ']' => {
                out.push(Token::Bracket(c));
                i += 1;
            }
            '\'' => {
                i = quoted(&chars, i)?;
                out.push(Token::Text);
            }
            '"' => {
                return Err(
                    "OData strings take single quotes: write 'text' (a quote inside is written '')".into(),
                );
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                return Err("`==` is not OData: compare with `eq` (`name eq 'x'`)".into());
            }
            '=' => {
                // `=` only inside a function's named arguments (`PropertyName='x'`).
                out.push(Token::Equals);
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                return Err("`!=` is not OData: write `ne`".into());
            }
            '<' | '>' => {
                return Err(format!("`{c}` is not OData: write `lt`, `le`, `gt` or `ge`"));
            }
            '&' | '|' => {
                return Err("`&&` / `||` are not OData: write `and` / `or`".into());
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                // Numbers, GUIDs, dates and times: a run of digits, letters, and - : . + (no spaces).
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | ':' | '.' | '+'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.chars().any(|c| c.is_ascii_alphabetic())
                    && !word.contains(['-', ':'])
                    && !word.ends_with(['m', 'M', 'd', 'D', 'f', 'F', 'l', 'L'])
                    && !word.contains(['e', 'E'])
                {
                    return Err(format!("`{word}` is not a number"));
                }
                out.push(Token::Number);
            }
            c if c.is_alphabetic() || c == '_' || c == '$' || c == '@' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '-')) {
                    // A GUID starting with letters: keep the hex run together.
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    i = quoted(&chars, i)?;
                    out.push(Token::Typed(word));
                } else if is_guid(&word) {
                    out.push(Token::Number);
                } else {
                    out.push(Token::Word(word));
                }
            }
            other => return Err(format!("`{other}` is not OData filter syntax")),
        }
    }
    Ok(out)
}

/// Skips a quoted string starting at `start` (a quote); returns the index after it.
fn quoted(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("a string is not closed: end it with '".into()),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
            Some('\'') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

fn is_guid(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    columns: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn word_is(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn or(&mut self) -> Result<(), String> {
        self.and()?;
        while self.word_is("or") {
            self.at += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Result<(), String> {
        self.not()?;
        while self.word_is("and") {
            self.at += 1;
            self.not()?;
        }
        Ok(())
    }

    fn not(&mut self) -> Result<(), String> {
        if self.word_is("not") {
            self.at += 1;
            return self.not();
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<(), String> {
        self.operand()?;
        match self.peek().cloned() {
            Some(Token::Word(op)) if COMPARISONS.contains(&op.as_str()) => {
                self.at += 1;
                self.operand()
            }
            Some(Token::Word(op)) if op == "in" => {
                self.at += 1;
                if self.next() != Some(Token::Open) {
                    return Err("`in` takes a list: `name in ('a','b')`".into());
                }
                loop {
                    self.operand()?;
                    match self.next() {
                        Some(Token::Comma) => {}
                        Some(Token::Close) => return Ok(()),
                        _ => return Err("the list of `in` is not closed: end it with `)`".into()),
                    }
                }
            }
            Some(Token::Equals) => Err("`=` is not OData: compare with `eq` (`name eq 'x'`)".into()),
            Some(Token::Word(word)) if !matches!(word.as_str(), "and" | "or") => Err(format!(
                "`{word}` is not an OData operator: use eq, ne, gt, ge, lt, le, has or in"
            )),
            _ => Ok(()),
        }
    }

    fn operand(&mut self) -> Result<(), String> {
        match self.next() {
            Some(Token::Open) => {
                self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(()),
                    _ => Err("a `(` is not closed: add `)`".into()),
                }
            }
            Some(Token::Text | Token::Number | Token::Typed(_)) => Ok(()),
            Some(Token::Word(word)) => {
                if matches!(word.as_str(), "true" | "false" | "null" | "INF" | "NaN") {
                    return Ok(());
                }
                if self.peek() == Some(&Token::Open) {
                    return self.call(&word);
                }
                if matches!(word.as_str(), "and" | "or" | "not") || COMPARISONS.contains(&word.as_str()) {
                    return Err(format!("`{word}` needs an operand before it"));
                }
                if word.starts_with(['$', '@']) {
                    return Ok(());
                }
                // A member path: its first segment is a column (or lookup navigation) of the entity.
                self.columns.push(word);
                while self.peek() == Some(&Token::Slash) {
                    self.at += 1;
                    match self.next() {
                        Some(Token::Word(_)) => {}
                        _ => return Err("a path segment is missing after `/`".into()),
                    }
                }
                Ok(())
            }
            Some(Token::Close) => Err("a `)` has no `(`: remove it".into()),
            Some(Token::Equals) => Err("`=` is not OData: compare with `eq` (`name eq 'x'`)".into()),
            Some(other) => Err(format!("unexpected {}", describe(&other))),
            None => Err("the filter ends too early: an operand is missing".into()),
        }
    }

    fn call(&mut self, name: &str) -> Result<(), String> {
        let qualified = name.contains('.');
        if !qualified && !FUNCTIONS.contains(&name) {
            return Err(format!(
                "`{name}` is not an OData function: use contains, startswith, endswith, tolower, toupper, length, year, month, day, ..."
            ));
        }
        self.at += 1; // (
        if self.peek() == Some(&Token::Close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            if qualified {
                // A service function (`Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a'])`):
                // named arguments of literals and lists.
                match (self.next(), self.next()) {
                    (Some(Token::Word(_)), Some(Token::Equals)) => {}
                    _ => return Err(format!("the arguments of `{name}` are `Name=value`")),
                }
                if self.peek() == Some(&Token::Bracket('[')) {
                    self.at += 1;
                    while !matches!(self.peek(), Some(Token::Bracket(']')) | None) {
                        self.at += 1;
                    }
                    if self.next().is_none() {
                        return Err("a `[` is not closed: add `]`".into());
                    }
                } else {
                    match self.next() {
                        Some(Token::Text | Token::Number | Token::Typed(_)) => {}
                        Some(Token::Word(w)) if matches!(w.as_str(), "true" | "false" | "null") => {}
                        _ => return Err(format!("the arguments of `{name}` are literals")),
                    }
                }
            } else {
                self.or()?;
            }
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => return Ok(()),
                _ => {
                    return Err(format!(
                        "the arguments of `{name}` are not closed: end them with `)`"
                    ));
                }
            }
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Comma => "`,`".into(),
        Token::Slash => "`/`".into(),
        Token::Bracket(c) => format!("`{c}`"),
        _ => "text".into(),
    }
}

/// Parses `text`; returns the columns it names (first path segments), or what is wrong.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Err("the filter is empty: remove it or write a condition".into());
    }
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
        columns: Vec::new(),
    };
    parser.or()?;
    if let Some(token) = parser.peek().cloned() {
        return Err(match token {
            Token::Close => "a `)` has no `(`: remove it".to_string(),
            Token::Equals => "`=` is not OData: compare with `eq` (`name eq 'x'`)".to_string(),
            Token::Word(word) => {
                format!("`{word}` follows a complete condition: join conditions with `and` / `or`")
            }
            other => format!("unexpected {} after a complete condition", describe(&other)),
        });
    }
    let mut columns = parser.columns;
    columns.dedup();
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_the_services_accept() {
        for (filter, columns) in [
            ("customertypecode eq 3", vec!["customertypecode"]),
            (
                "statecode eq 0 and (name ne 'O''Brien' or revenue gt 1000.50)",
                vec!["statecode", "name", "revenue"],
            ),
            (
                "CustomerType eq Microsoft.Dynamics.DataEntities.CustomerType'Organization'",
                vec!["CustomerType"],
            ),
            (
                "not contains(name,'x') and startswith(accountnumber, 'US-')",
                vec!["name", "accountnumber"],
            ),
            ("customertypecode in (1,2,3)", vec!["customertypecode"]),
            (
                "_parentaccountid_value eq 6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
                vec!["_parentaccountid_value"],
            ),
            (
                "createdon ge 2024-01-01T00:00:00Z and birthdate lt 2000-01-01",
                vec!["createdon", "birthdate"],
            ),
            ("primarycontactid/fullname eq null", vec!["primarycontactid"]),
            (
                "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0','1'])",
                vec![],
            ),
            ("year(createdon) eq 2024", vec!["createdon"]),
        ] {
            assert_eq!(
                parse(filter),
                Ok(columns.iter().map(|c| c.to_string()).collect()),
                "{filter}"
            );
        }
    }

    #[test]
    fn mistakes_say_what_to_write() {
        for (filter, says) in [
            ("customertypecode = 3", "`=` is not OData: compare with `eq`"),
            ("customertypecode == 3", "`==` is not OData"),
            ("name eq \"Contoso\"", "single quotes"),
            ("name ne 'x", "not closed"),
            ("statecode eq (0", "not closed"),
            ("statecode eq 0)", "has no `(`"),
            ("a eq 1 && b eq 2", "write `and` / `or`"),
            ("a != 1", "write `ne`"),
            ("a equals 1", "`equals` is not an OData operator"),
            ("", "empty"),
            ("substringof('x', name)", "not an OData function"),
            ("a eq 1 b eq 2", "join conditions with `and` / `or`"),
        ] {
            let error = parse(filter).unwrap_err();
            assert!(error.contains(says), "{filter}: {error}");
        }
    }
}
