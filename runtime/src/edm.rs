//! Edm value types shared by generated bindings and user code.
//!
//! Each type parses from and prints to the text form OData uses on the wire (JSON format, and URL
//! literals where they agree), and serializes with serde as that string, so nothing goes through a
//! float: `Decimal` is an exact decimal (`rust_decimal`), `DateTimeOffset` keeps its offset and up to 7
//! fractional digits (100 ns, as .NET services send), `Duration` is ISO 8601.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;

/// An Edm value that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {edm_type} value `{value}`: {reason}")]
pub struct ParseError {
    pub edm_type: &'static str,
    pub value: String,
    pub reason: String,
}

impl ParseError {
    fn new(edm_type: &'static str, value: &str, reason: impl fmt::Display) -> Self {
        ParseError {
            edm_type,
            value: value.chars().take(80).collect(),
            reason: reason.to_string(),
        }
    }
}

/// Serde as the OData string form, through `Display` / `FromStr`.
macro_rules! string_serde {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `Edm.Decimal`: an exact decimal (never a float). Precision and scale facets are checked where values
/// are written to a column.
pub use rust_decimal::Decimal;

/// `Edm.Guid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub uuid::Uuid);

impl FromStr for Guid {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(Guid)
            .map_err(|e| ParseError::new("Edm.Guid", s, e))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

string_serde!(Guid);

/// `Edm.Date`: a calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub time::Date);

impl FromStr for Date {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ParseError::new("Edm.Date", s, reason);
        let mut parts = s.splitn(3, '-');
        let (year, month, day) = (parts.next(), parts.next(), parts.next());
        let (Some(year), Some(month), Some(day)) = (year, month, day) else {
            return Err(bad("expected YYYY-MM-DD"));
        };
        if year.len() < 4 || month.len() != 2 || day.len() != 2 {
            return Err(bad("expected YYYY-MM-DD"));
        }
        let year: i32 = year.parse().map_err(|_| bad("bad year"))?;
        let month: u8 = month.parse().map_err(|_| bad("bad month"))?;
        let day: u8 = day.parse().map_err(|_| bad("bad day"))?;
        let month = time::Month::try_from(month).map_err(|_| bad("month out of range"))?;
        time::Date::from_calendar_date(year, month, day)
            .map(Date)
            .map_err(|e| ParseError::new("Edm.Date", s, e))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

string_serde!(Date);

/// Writes `.fffffff` with trailing zeros removed (nothing for whole seconds).
fn write_fraction(f: &mut fmt::Formatter<'_>, nanos: u32) -> fmt::Result {
    if nanos == 0 {
        return Ok(());
    }
    let digits = format!("{nanos:09}");
    write!(f, ".{}", digits.trim_end_matches('0'))
}

/// `Edm.TimeOfDay`: `hh:mm[:ss[.fffffff]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay(pub time::Time);

impl FromStr for TimeOfDay {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ParseError::new("Edm.TimeOfDay", s, reason);
        let mut parts = s.splitn(3, ':');
        let hour: u8 = parts
            .next()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| bad("expected hh:mm"))?
            .parse()
            .map_err(|_| bad("bad hour"))?;
        let minute: u8 = parts
            .next()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| bad("expected hh:mm"))?
            .parse()
            .map_err(|_| bad("bad minute"))?;
        let (second, nanos) = match parts.next() {
            None => (0, 0),
            Some(rest) => parse_seconds(rest).ok_or_else(|| bad("bad seconds"))?,
        };
        time::Time::from_hms_nano(hour, minute, second, nanos)
            .map(TimeOfDay)
            .map_err(|e| ParseError::new("Edm.TimeOfDay", s, e))
    }
}

/// `ss[.f{1,12}]` to seconds and nanoseconds (digits past the ninth must be zero: no rounding).
fn parse_seconds(text: &str) -> Option<(u8, u32)> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.len() != 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || (text.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let second: u8 = whole.parse().ok()?;
    let (kept, dropped) = fraction.split_at(fraction.len().min(9));
    if dropped.chars().any(|c| c != '0') {
        return None;
    }
    let nanos = if kept.is_empty() {
        0
    } else {
        format!("{kept:0<9}").parse().ok()?
    };
    Some((second, nanos))
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.0.hour(),
            self.0.minute(),
            self.0.second()
        )?;
        write_fraction(f, self.0.nanosecond())
    }
}

string_serde!(TimeOfDay);

/// `Edm.DateTimeOffset`: an instant with the offset it was written with (`2024-05-01T09:30:00.1234567+02:00`
/// stays `+02:00`), up to 9 fractional digits kept exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeOffset(pub time::OffsetDateTime);

impl FromStr for DateTimeOffset {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        time::OffsetDateTime::parse(s, &Rfc3339)
            .map(DateTimeOffset)
            .map_err(|e| ParseError::new("Edm.DateTimeOffset", s, e))
    }
}

impl fmt::Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            Date(v.date()),
            v.hour(),
            v.minute(),
            v.second()
        )?;
        write_fraction(f, v.nanosecond())?;
        let offset = v.offset();
        if offset.is_utc() {
            f.write_str("Z")
        } else {
            let (h, m, _) = offset.as_hms();
            let sign = if offset.is_negative() { '-' } else { '+' };
            write!(f, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
        }
    }
}

string_serde!(DateTimeOffset);

/// `Edm.Duration`: ISO 8601 `[-]PnDTnHnMn.nS`, exact to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Duration(pub time::Duration);

impl FromStr for Duration {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ParseError::new("Edm.Duration", s, reason);
        let (negative, rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let rest = rest.strip_prefix('P').ok_or_else(|| bad("expected P…"))?;
        let (days_part, time_part) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut total = time::Duration::ZERO;
        let mut any = false;
        if !days_part.is_empty() {
            let days = days_part
                .strip_suffix('D')
                .ok_or_else(|| bad("expected nD before T"))?;
            let days: i64 = days.parse().map_err(|_| bad("bad days"))?;
            total += time::Duration::days(days);
            any = true;
        }
        if let Some(mut t) = time_part {
            if t.is_empty() {
                return Err(bad("empty time part after T"));
            }
            for (unit, seconds) in [('H', 3600i64), ('M', 60)] {
                if let Some(at) = t.find(unit) {
                    let n: i64 = t[..at].parse().map_err(|_| bad("bad number"))?;
                    total += time::Duration::seconds(n.checked_mul(seconds).ok_or_else(|| bad("too large"))?);
                    t = &t[at + 1..];
                    any = true;
                }
            }
            if let Some(number) = t.strip_suffix('S') {
                let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
                let whole: i64 = whole.parse().map_err(|_| bad("bad seconds"))?;
                if fraction.len() > 9 && fraction[9..].chars().any(|c| c != '0')
                    || !fraction.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(bad("more than 9 fractional digits"));
                }
                let kept = &fraction[..fraction.len().min(9)];
                let nanos: i64 = if kept.is_empty() {
                    0
                } else {
                    format!("{kept:0<9}").parse().map_err(|_| bad("bad fraction"))?
                };
                total += time::Duration::seconds(whole) + time::Duration::nanoseconds(nanos);
                any = true;
            } else if !t.is_empty() {
                return Err(bad("unexpected text"));
            }
        }
        if !any {
            return Err(bad("no components"));
        }
        Ok(Duration(if negative { -total } else { total }))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_negative() {
            f.write_str("-")?;
        }
        let d = d.abs();
        let total = d.whole_seconds();
        let (days, rest) = (total / 86_400, total % 86_400);
        let (hours, minutes, seconds) = (rest / 3600, rest % 3600 / 60, rest % 60);
        f.write_str("P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        let nanos = d.subsec_nanoseconds().unsigned_abs();
        if hours > 0 || minutes > 0 || seconds > 0 || nanos > 0 || days == 0 {
            f.write_str("T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
            if seconds > 0 || nanos > 0 || (hours == 0 && minutes == 0) {
                write!(f, "{seconds}")?;
                write_fraction(f, nanos)?;
                f.write_str("S")?;
            }
        }
        Ok(())
    }
}

string_serde!(Duration);

/// `Edm.Binary` / `Edm.Stream` content: bytes, base64 on the wire. Standard and URL-safe alphabets are
/// read; the standard alphabet with padding is written (what the .NET services decode).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Vec<u8>);

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl FromStr for Binary {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut buffer, mut bits) = (0u32, 0u32);
        let trimmed = s.trim_end_matches('=');
        if s.len() - trimmed.len() > 2 {
            return Err(ParseError::new("Edm.Binary", s, "too much padding"));
        }
        for (i, c) in trimmed.bytes().enumerate() {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' | b'-' => 62,
                b'/' | b'_' => 63,
                _ => {
                    return Err(ParseError::new(
                        "Edm.Binary",
                        s,
                        format!("invalid base64 character at {i}"),
                    ));
                }
            };
            buffer = (buffer << 6) | u32::from(value);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        if bits >= 6 {
            return Err(ParseError::new("Edm.Binary", s, "truncated base64"));
        }
        Ok(Binary(out))
    }
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(self.0.len().div_ceil(3) * 4);
        for chunk in self.0.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    text.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    text.push('=');
                }
            }
        }
        f.write_str(&text)
    }
}

string_serde!(Binary);

/// A value kept as raw JSON text: `Edm.Untyped`, geography and geometry values (GeoJSON), and types
/// from vocabularies the metadata only references. Nothing is lost; nothing is interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Json(pub String);

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_forms_round_trip() {
        for s in ["2024-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(s.parse::<Date>().unwrap().to_string(), s);
        }
        assert!("2023-02-29".parse::<Date>().is_err());
        for s in ["09:30:00", "23:59:59.1234567", "00:00:00.000000001"] {
            assert_eq!(s.parse::<TimeOfDay>().unwrap().to_string(), s);
        }
        assert_eq!("09:30".parse::<TimeOfDay>().unwrap().to_string(), "09:30:00");
        for s in [
            "2024-05-01T09:30:00.1234567+02:00",
            "2024-05-01T09:30:00Z",
            "1999-12-31T23:59:59.5-05:30",
        ] {
            assert_eq!(s.parse::<DateTimeOffset>().unwrap().to_string(), s);
        }
        for s in ["P1DT2H3M4.5S", "PT0S", "-PT1M", "P3D", "PT0.0000001S"] {
            assert_eq!(s.parse::<Duration>().unwrap().to_string(), s);
        }
        assert_eq!("P0DT36H".parse::<Duration>().unwrap().to_string(), "P1DT12H");
        assert!("P".parse::<Duration>().is_err());
        assert!("PT".parse::<Duration>().is_err());
        let guid = "6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c";
        assert_eq!(guid.parse::<Guid>().unwrap().to_string(), guid);
        assert_eq!(Binary(b"dualsync".to_vec()).to_string(), "ZHVhbHN5bmM=");
        assert_eq!("ZHVhbHN5bmM".parse::<Binary>().unwrap().0, b"dualsync");
        assert_eq!("-_8=".parse::<Binary>().unwrap().0, [0xfb, 0xff]);
        assert!("Zg=".parse::<Binary>().is_ok());
        assert!("Z".parse::<Binary>().is_err());
    }

    #[test]
    fn serde_uses_the_odata_strings() {
        let value = "2024-05-01T09:30:00.1234567+02:00"
            .parse::<DateTimeOffset>()
            .unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            "\"2024-05-01T09:30:00.1234567+02:00\""
        );
        let back: DateTimeOffset = serde_json::from_str("\"2024-05-01T09:30:00.1234567+02:00\"").unwrap();
        assert_eq!(back, value);
        let error = serde_json::from_str::<Date>("\"2024-13-01\"").unwrap_err();
        assert!(error.to_string().contains("Edm.Date"), "{error}");
    }

    proptest! {
        #[test]
        fn binary_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = Binary(bytes.clone()).to_string();
            prop_assert_eq!(text.parse::<Binary>().unwrap().0, bytes);
        }

        #[test]
        fn dates_and_instants_round_trip(days in 0i64..2_900_000, seconds in 0i64..86_400, nanos in 0u32..1_000_000_000, offset in -50_400i32..50_400) {
            let date = time::Date::from_julian_day(i32::try_from(days + 1_721_426).unwrap()).unwrap();
            let d = Date(date);
            prop_assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
            let offset = time::UtcOffset::from_whole_seconds(offset - offset % 60).unwrap();
            let at = date.with_hms_nano(0, 0, 0, nanos).unwrap().assume_offset(offset) + time::Duration::seconds(seconds);
            if (1..=9999).contains(&at.year()) {
                let value = DateTimeOffset(at);
                let text = value.to_string();
                let back: DateTimeOffset = text.parse().unwrap();
                prop_assert_eq!(back, value);
                prop_assert_eq!(back.0.offset(), value.0.offset(), "the offset is kept");
            }
        }

        #[test]
        fn duration_round_trips(seconds in -10_000_000i64..10_000_000, nanos in 0i64..1_000_000_000) {
            let d = Duration(time::Duration::seconds(seconds) + time::Duration::nanoseconds(nanos));
            prop_assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
    }
}
