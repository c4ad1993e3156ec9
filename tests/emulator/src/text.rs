//! Small text helpers: percent-decoding of URLs, key literals, dates and instants, and excerpts of
//! request text for error messages (control characters escaped).

/// At most 80 characters of `text`, control characters escaped, for error messages.
pub fn excerpt(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 80 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes `%XX` escapes (and, in query strings, `+` as a space); invalid escapes are kept as text.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query options of a URL query string, decoded, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(pair, true), String::new()),
        })
        .collect()
}

/// Encodes a query option's value for a next or delta link.
pub fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b'$'
            | b'*'
            | b':'
            | b'/' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// `YYYY-MM-DD` as days since 0000-03-01 (comparable), `None` when not a date.
pub fn parse_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .ok()
        .map(|d| i64::from(d.to_julian_day()))
}

/// An RFC 3339 instant (`2024-05-01T09:30:00.123Z`, offsets allowed, seconds optional) as nanoseconds
/// since the Unix epoch, `None` when not one.
pub fn parse_instant(text: &str) -> Option<i128> {
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(instant) = time::OffsetDateTime::parse(text, &rfc) {
        return Some(instant.unix_timestamp_nanos());
    }
    // OData allows leaving out the seconds: 2024-05-01T09:30Z.
    let (date_time, zone) = split_zone(text)?;
    if date_time.len() == 16 {
        let with_seconds = format!("{date_time}:00{zone}");
        return time::OffsetDateTime::parse(&with_seconds, &rfc)
            .ok()
            .map(|i| i.unix_timestamp_nanos());
    }
    None
}

fn split_zone(text: &str) -> Option<(&str, &str)> {
    if let Some(stripped) = text.strip_suffix('Z') {
        return Some((stripped, "Z"));
    }
    let at = text.len().checked_sub(6)?;
    let zone = text.get(at..)?;
    if zone.starts_with(['+', '-']) && zone.as_bytes().get(3) == Some(&b':') {
        Some((text.get(..at)?, zone))
    } else {
        None
    }
}

/// The current time as an OData `DateTimeOffset` in UTC with milliseconds.
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_dates() {
        assert_eq!(percent_decode("O%27Brien%20%26+Co", true), "O'Brien & Co");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(
            query_pairs("$filter=name%20eq%20'x'&$top=2&flag"),
            [
                ("$filter".to_string(), "name eq 'x'".to_string()),
                ("$top".into(), "2".into()),
                ("flag".into(), String::new())
            ]
        );
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert_eq!(
            parse_instant("2024-05-01T09:30Z"),
            parse_instant("2024-05-01T11:30:00+02:00")
        );
        assert!(parse_instant("yesterday").is_none());
        assert_eq!(excerpt("a\u{1b}b"), "a\\u{1b}b");
    }
}
