//! Edm value types shared by generated bindings and user code.
//!
//! Each type parses from and prints to the text form OData uses on the wire (JSON format, and URL
//! literals where they agree), and serializes with serde as that string, so nothing goes through a
//! float: `Decimal` is an exact decimal (`rust_decimal`), `DateTimeOffset` keeps its offset and up to 9
//! fractional digits (.NET services send 7: 100 ns), `Duration` is ISO 8601. Parsing outside text gives a
//! value or a [`ParseError`] saying what and where, never a panic and never a rounding.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::excerpt;

/// An Edm value that did not parse. `value` is the offending text as shown to a user: at most 80
/// characters, control and invisible formatting characters escaped (see [`crate::json`]); `reason`
/// says what is wrong and where (which component).
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
            value: excerpt(value),
            // Reasons may quote outside text (e.g. from `uuid`): escaped too, never truncated short.
            reason: crate::json::escape_text(&reason.to_string(), 400),
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
///
/// Parse outside text with [`parse_decimal`], not `Decimal::from_str`: `rust_decimal`'s own `FromStr`
/// (a foreign impl this crate cannot change) silently rounds past 28 significant digits.
pub use rust_decimal::Decimal;

/// The largest mantissa `Decimal` holds (96 bits), as text: 29 digits.
const DECIMAL_MAX_MANTISSA: &str = "79228162514264337593543950335";

/// Parses an `Edm.Decimal` exactly: `[+-]digits[.digits][(e|E)[+-]digits]` (OData's `decimalValue`;
/// also any JSON number). A value `Decimal` cannot hold exactly is an error naming what does not fit,
/// never a rounding: at most 28 digits after the point and a mantissa (the digits without the point)
/// of at most 79228162514264337593543950335.
///
/// Trailing zeros after the point that do not fit are dropped, since that does not change the value:
/// `1.00000000000000000000000000000000` (32 zeros) is `1.0000000000000000000000000000` (28 zeros).
/// Otherwise the scale is kept as written (`1.50` has scale 2). An exponent is applied exactly
/// (`1E+2` is `100`, `1.5e-3` is `0.0015`); zero is `0` with any exponent.
pub fn parse_decimal(text: &str) -> Result<Decimal, ParseError> {
    let bad = |reason: &str| ParseError::new("Edm.Decimal", text, reason);
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // `e`/`E`/`.` are ASCII: the byte indexes `find` returns are character boundaries.
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits_only = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(whole) {
        return Err(bad(
            "expected digits, optionally with a point, an exponent and a sign (e.g. -12.5 or 1.5E-3)",
        ));
    }
    let fraction = match fraction {
        Some(f) if !digits_only(f) => return Err(bad("expected digits after the decimal point")),
        Some(f) => f,
        None => "",
    };
    // The exponent saturates: beyond ±10^15 no non-zero value fits anyway.
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, digits) = match e.as_bytes().first() {
                Some(b'-') => (-1, &e[1..]),
                Some(b'+') => (1, &e[1..]),
                _ => (1, e),
            };
            if !digits_only(digits) {
                return Err(bad("expected digits in the exponent"));
            }
            let magnitude = digits
                .bytes()
                .try_fold(0i64, |n, b| n.checked_mul(10)?.checked_add(i64::from(b - b'0')))
                .unwrap_or(i64::MAX)
                .min(1_000_000_000_000_000);
            sign * magnitude
        }
    };
    // The significant digits (without leading zeros) and the power of ten that divides them.
    let mut digits: String = whole
        .chars()
        .chain(fraction.chars())
        .skip_while(|&c| c == '0')
        .collect();
    let mut scale = i64::try_from(fraction.len())
        .unwrap_or(i64::MAX)
        .saturating_sub(exponent);
    if digits.is_empty() {
        let scale = u32::try_from(scale.clamp(0, i64::from(Decimal::MAX_SCALE))).unwrap_or(0);
        return Ok(Decimal::new(0, scale));
    }
    let max_scale = i64::from(Decimal::MAX_SCALE);
    let fits = |d: &str| {
        d.len() < DECIMAL_MAX_MANTISSA.len()
            || (d.len() == DECIMAL_MAX_MANTISSA.len() && d <= DECIMAL_MAX_MANTISSA)
    };
    while scale > 0 && (scale > max_scale || !fits(&digits)) && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    if scale < 0 {
        // A whole number written with an exponent: the zeros become digits.
        let zeros = usize::try_from(-scale).unwrap_or(usize::MAX);
        if zeros > DECIMAL_MAX_MANTISSA.len() {
            return Err(bad(
                "too large for Edm.Decimal here (at most 79228162514264337593543950335); values are never rounded",
            ));
        }
        digits.extend(std::iter::repeat_n('0', zeros));
        scale = 0;
    }
    if scale > max_scale {
        return Err(bad(
            "more than 28 digits after the decimal point cannot be kept exactly by Edm.Decimal here; values are never rounded",
        ));
    }
    if !fits(&digits) {
        return Err(bad(
            "more significant digits than Edm.Decimal holds here (the digits without the point must not exceed 79228162514264337593543950335); values are never rounded",
        ));
    }
    // At most 29 digits: fits an i128.
    let mantissa: i128 = digits.parse().map_err(|_| bad("bad digits"))?;
    let scale = u32::try_from(scale).map_err(|_| bad("bad scale"))?;
    Decimal::try_from_i128_with_scale(if negative { -mantissa } else { mantissa }, scale)
        .map_err(|e| ParseError::new("Edm.Decimal", text, e))
}

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
        parse_date(s)
            .map(Date)
            .map_err(|reason| ParseError::new("Edm.Date", s, reason))
    }
}

/// Whether `text` is one or more ASCII digits (what `u8::from_str` and friends do not check: they also
/// take a sign).
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A two-digit component (`month`, `hour`, …).
fn two_digits(text: &str, component: &str) -> Result<u8, String> {
    if text.len() == 2 && is_digits(text) {
        let b = text.as_bytes();
        Ok((b[0] - b'0') * 10 + (b[1] - b'0'))
    } else {
        Err(format!("the {component} `{}` is not two digits", excerpt(text)))
    }
}

/// `YYYY-MM-DD` (four or more year digits, no leading zero beyond four).
fn parse_date(text: &str) -> Result<time::Date, String> {
    let mut parts = text.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected YYYY-MM-DD".into());
    };
    if year.len() < 4 || !is_digits(year) || (year.len() > 4 && year.starts_with('0')) {
        return Err(format!("the year `{}` is not four digits", excerpt(year)));
    }
    let year: i32 = year
        .parse()
        .map_err(|_| format!("the year `{}` is out of range", excerpt(year)))?;
    let month = two_digits(month, "month")?;
    let day = two_digits(day, "day")?;
    let month = time::Month::try_from(month)
        .map_err(|_| format!("the month `{month:02}` is out of range (01 to 12)"))?;
    time::Date::from_calendar_date(year, month, day).map_err(|e| e.to_string())
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

/// `Edm.TimeOfDay`: `hh:mm[:ss[.fffffffff]]`.
///
/// Nanoseconds are stored: a tenth or later fractional digit is accepted only if it is zero (the value
/// is then unchanged); otherwise it is an error, never a rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay(pub time::Time);

impl FromStr for TimeOfDay {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_time(s)
            .map(TimeOfDay)
            .map_err(|reason| ParseError::new("Edm.TimeOfDay", s, reason))
    }
}

/// `hh:mm[:ss[.f…]]`.
fn parse_time(text: &str) -> Result<time::Time, String> {
    let mut parts = text.splitn(3, ':');
    let hour = two_digits(parts.next().unwrap_or_default(), "hour")?;
    let minute = two_digits(parts.next().ok_or("expected hh:mm[:ss[.fffffffff]]")?, "minute")?;
    let (second, nanos) = match parts.next() {
        None => (0, 0),
        Some(rest) => parse_seconds(rest)?,
    };
    time::Time::from_hms_nano(hour, minute, second, nanos).map_err(|e| e.to_string())
}

/// `ss[.f…]` to seconds and nanoseconds (digits past the ninth must be zero: no rounding).
fn parse_seconds(text: &str) -> Result<(u8, u32), String> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let second = two_digits(whole, "seconds")?;
    let nanos = match fraction {
        None => 0,
        Some(fraction) => parse_nanos(fraction, "seconds")?,
    };
    Ok((second, nanos))
}

/// Fractional-second digits to nanoseconds: only zeros may follow the ninth digit.
fn parse_nanos(fraction: &str, component: &str) -> Result<u32, String> {
    if !is_digits(fraction) {
        return Err(format!(
            "the fraction of the {component} `{}` is not digits",
            excerpt(fraction)
        ));
    }
    // All ASCII digits from here: byte indexes are character boundaries.
    let (kept, dropped) = fraction.split_at(fraction.len().min(9));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!(
            "the {component} have more than 9 fractional digits, which cannot be kept exactly \
             (nanoseconds are stored); values are never rounded"
        ));
    }
    let nanos = kept.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Ok(nanos * 10u32.pow(9 - kept.len() as u32))
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
///
/// Reads OData's `YYYY-MM-DDThh:mm[:ss[.f…]](Z|±hh:mm)`. A tenth or later fractional digit is accepted
/// only if it is zero (the value is then unchanged); otherwise it is an error, never a truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeOffset(pub time::OffsetDateTime);

impl FromStr for DateTimeOffset {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_date_time_offset(s)
            .map(DateTimeOffset)
            .map_err(|reason| ParseError::new("Edm.DateTimeOffset", s, reason))
    }
}

fn parse_date_time_offset(text: &str) -> Result<time::OffsetDateTime, String> {
    // `T`, `Z`, `+`, `-` are ASCII: the byte indexes found are character boundaries.
    let Some(at) = text.find(['T', 't']) else {
        return Err("expected YYYY-MM-DDThh:mm[:ss[.fffffffff]] and Z or ±hh:mm".into());
    };
    let date = parse_date(&text[..at])?;
    let rest = &text[at + 1..];
    let (time_text, offset) = match rest.strip_suffix(['Z', 'z']) {
        Some(time_text) => (time_text, time::UtcOffset::UTC),
        None => {
            let Some(sign_at) = rest.rfind(['+', '-']) else {
                return Err("the offset is missing: expected Z or ±hh:mm at the end".into());
            };
            (&rest[..sign_at], parse_offset(&rest[sign_at..])?)
        }
    };
    let time = parse_time(time_text)?;
    Ok(time::PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// `±hh:mm` (hours 00 to 23, minutes 00 to 59).
fn parse_offset(text: &str) -> Result<time::UtcOffset, String> {
    let bad = || format!("the offset `{}` is not ±hh:mm", excerpt(text));
    let sign: i8 = if text.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = text[1..].split_once(':').ok_or_else(bad)?;
    let hours = two_digits(hours, "offset hours")?;
    let minutes = two_digits(minutes, "offset minutes")?;
    if hours > 23 || minutes > 59 {
        return Err(format!("the offset `{}` is out of range", excerpt(text)));
    }
    // In range (checked above): the casts are exact.
    time::UtcOffset::from_hms(sign * hours as i8, sign * minutes as i8, 0).map_err(|e| e.to_string())
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

/// `Edm.Duration`: ISO 8601 `[-]PnDTnHnMn.nS`, exact to the nanosecond, over the whole range of
/// `time::Duration` (about ±292 billion years). Components are unsigned digits in the order D, H, M, S
/// (each at most once; only seconds have a fraction, of which digits past the ninth must be zero).
/// Anything else, or a total beyond the range, is an error naming the component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Duration(pub time::Duration);

impl FromStr for Duration {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s)
            .map(Duration)
            .map_err(|reason| ParseError::new("Edm.Duration", s, reason))
    }
}

fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest
        .strip_prefix('P')
        .ok_or("expected `P` (ISO 8601: [-]PnDTnHnMn.nS)")?;
    // The magnitude in whole seconds may reach 2^63 only for a negative duration.
    let limit: u64 = if negative { 1 << 63 } else { i64::MAX as u64 };
    let mut seconds: u64 = 0;
    let mut nanos: u32 = 0;
    let mut add = |number: &str, per: u64, component: &str| -> Result<(), String> {
        if !is_digits(number) {
            return Err(format!("the {component} `{}` are not digits", excerpt(number)));
        }
        let total = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(per))
            .and_then(|n| n.checked_add(seconds))
            .filter(|&n| n <= limit)
            .ok_or_else(|| {
                format!(
                    "the {component} `{}` make the duration longer than it can be \
                     (at most 9223372036854775807 seconds, about 292 billion years)",
                    excerpt(number)
                )
            })?;
        seconds = total;
        Ok(())
    };
    let (days, time_part) = match rest.split_once('T') {
        Some((days, time_part)) => (days, Some(time_part)),
        None => (rest, None),
    };
    let mut any = false;
    if !days.is_empty() {
        let number = days.strip_suffix('D').ok_or_else(|| {
            format!(
                "expected the days as nD before `T`, found `{}` (Edm.Duration has no years, months or weeks)",
                excerpt(days)
            )
        })?;
        add(number, 86_400, "days")?;
        any = true;
    }
    if let Some(mut t) = time_part {
        if t.is_empty() {
            return Err("nothing after `T`".into());
        }
        let mut previous = 0;
        while !t.is_empty() {
            // Up to the first character that is neither a digit nor a point: a char boundary.
            let end = t
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(t.len());
            let (number, after) = t.split_at(end);
            let Some(unit) = after.chars().next() else {
                return Err(format!(
                    "the number `{}` at the end has no unit (H, M or S)",
                    excerpt(number)
                ));
            };
            let (rank, component, per) = match unit {
                'H' => (1, "hours", 3600),
                'M' => (2, "minutes", 60),
                'S' => (3, "seconds", 1),
                other => {
                    return Err(format!(
                        "unexpected `{}` in the time part: expected digits followed by H, M or S",
                        excerpt(other.encode_utf8(&mut [0; 4]))
                    ));
                }
            };
            if rank <= previous {
                return Err(format!(
                    "the {component} come out of order or twice (the order is H, M, S)"
                ));
            }
            previous = rank;
            let whole = match number.split_once('.') {
                Some((whole, fraction)) if unit == 'S' => {
                    nanos = parse_nanos(fraction, "seconds")?;
                    whole
                }
                Some(_) => {
                    return Err(format!(
                        "the {component} `{}` have a fraction; only seconds may",
                        excerpt(number)
                    ));
                }
                None => number,
            };
            add(whole, per, component)?;
            t = &after[unit.len_utf8()..];
        }
        any = true;
    }
    if !any {
        return Err("no components (e.g. PT0S)".into());
    }
    // In range: `limit` was checked at each step.
    let duration = if negative {
        let whole = 0i64
            .checked_sub_unsigned(seconds)
            .ok_or("the duration is too long")?;
        time::Duration::new(whole, -(nanos as i32))
    } else {
        let whole = i64::try_from(seconds).map_err(|_| "the duration is too long")?;
        time::Duration::new(whole, nanos as i32)
    };
    Ok(duration)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_negative() {
            f.write_str("-")?;
        }
        // Magnitudes as unsigned: `time::Duration::MIN` has no positive counterpart.
        let total = d.whole_seconds().unsigned_abs();
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
                        format!(
                            "invalid base64 character `{}` at byte {i}",
                            excerpt(
                                s.get(i..)
                                    .and_then(|r| r.chars().next())
                                    .unwrap_or('?')
                                    .encode_utf8(&mut [0; 4])
                            )
                        ),
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

    #[test]
    fn duration_overflow_and_bad_characters_are_errors_not_panics() {
        for (text, says) in [
            (
                "P200000000000000D",
                "the days `200000000000000` make the duration longer",
            ),
            (
                "P1DT9223372036854775807S",
                "the seconds `9223372036854775807` make the duration longer",
            ),
            ("PT9223372036854775807H", "the hours"),
            ("PT99999999999999999999M", "the minutes"),
            ("PT1.12345678é0S", "unexpected `é` in the time part"),
            ("PT1.1.2S", "fraction of the seconds `1.2` is not digits"),
            ("PT1éS", "unexpected `é` in the time part"),
            ("PT1M2H", "the hours come out of order"),
            ("PT1.5H", "the hours `1.5` have a fraction"),
            ("PT+5S", "unexpected `+`"),
            ("P+1D", "the days `+1` are not digits"),
            ("P1Y", "no years, months or weeks"),
            ("PT1.1234567891S", "more than 9 fractional digits"),
            ("PT5", "no unit"),
        ] {
            let error = text.parse::<Duration>().unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
        // The whole range of `time::Duration`, exactly, both ways.
        for d in [time::Duration::MAX, time::Duration::MIN, -time::Duration::MAX] {
            let text = Duration(d).to_string();
            assert_eq!(text.parse::<Duration>().unwrap().0, d, "{text}");
        }
        assert_eq!(
            Duration(time::Duration::MIN).to_string(),
            "-P106751991167300DT15H30M8.999999999S"
        );
        assert!("P106751991167300DT15H30M7.999999999S".parse::<Duration>().is_ok());
        assert!("P106751991167300DT15H30M8S".parse::<Duration>().is_err());
        assert!("-P106751991167300DT15H30M9S".parse::<Duration>().is_err());
        assert_eq!(
            "PT1.123456789000S"
                .parse::<Duration>()
                .unwrap()
                .0
                .subsec_nanoseconds(),
            123_456_789
        );
    }

    #[test]
    fn other_parsers_reject_signs_and_odd_characters_without_panicking() {
        for text in [
            "2024-+1-01",
            "2024-01-+1",
            "+2024-01-01",
            "02024-01-01",
            "2024-01-0é",
            "é024-01-01",
        ] {
            assert!(text.parse::<Date>().is_err(), "{text}");
        }
        for text in [
            "+1:30",
            "01:+3",
            "01:30:+5",
            "01:30:05.",
            "01:30:05.é",
            "01:é0",
            "24:00",
        ] {
            assert!(text.parse::<TimeOfDay>().is_err(), "{text}");
        }
        for text in [
            "2024-05-01T09:30:00+2:00",
            "2024-05-01T09:30:00+24:00",
            "2024-05-01T09:30:00é",
            "2024-05-01T09:30:00",
            "2024-05-01Té",
            "2024-05-01T09:30:60Z",
        ] {
            assert!(text.parse::<DateTimeOffset>().is_err(), "{text}");
        }
        let error = "Zm9vé".parse::<Binary>().unwrap_err().to_string();
        assert!(
            error.contains("invalid base64 character `é` at byte 4"),
            "{error}"
        );
        assert!("{6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5cé".parse::<Guid>().is_err());
        // OData allows the seconds to be left out; the end of the year 9999 in a western offset is fine.
        assert_eq!(
            "2024-05-01T09:30Z".parse::<DateTimeOffset>().unwrap().to_string(),
            "2024-05-01T09:30:00Z"
        );
        let late = "9999-12-31T23:59:59.999999999-12:00";
        assert_eq!(late.parse::<DateTimeOffset>().unwrap().to_string(), late);
    }

    #[test]
    fn tenth_fractional_digit_is_an_error_unless_zero() {
        let error = "2024-05-01T09:30:00.1234567891Z"
            .parse::<DateTimeOffset>()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("more than 9 fractional digits, which cannot be kept exactly"),
            "{error}"
        );
        let kept = "2024-05-01T09:30:00.123456789000+02:00"
            .parse::<DateTimeOffset>()
            .unwrap();
        assert_eq!(kept.0.nanosecond(), 123_456_789);
        assert_eq!(kept.to_string(), "2024-05-01T09:30:00.123456789+02:00");
        let error = "09:30:00.0000000001"
            .parse::<TimeOfDay>()
            .unwrap_err()
            .to_string();
        assert!(error.contains("more than 9 fractional digits"), "{error}");
        assert_eq!(
            "09:30:00.100000000000".parse::<TimeOfDay>().unwrap().to_string(),
            "09:30:00.1"
        );
    }

    #[test]
    fn decimal_text_is_exact_or_an_error() {
        for (text, exact) in [
            ("1E+2", "100"),
            ("1.5e-3", "0.0015"),
            ("-12.50", "-12.50"),
            ("+7", "7"),
            ("0e999999999999999999999", "0"),
            (
                "0.0000000000000000000000000000000",
                "0.0000000000000000000000000000",
            ),
            (
                "1.00000000000000000000000000000000",
                "1.0000000000000000000000000000",
            ),
            ("79228162514264337593543950335", "79228162514264337593543950335"),
            ("7922816251426433759354395033.5", "7922816251426433759354395033.5"),
            (
                "792281625142643375935439503350e-1",
                "79228162514264337593543950335",
            ),
            ("0.0000000000000000000000000001", "0.0000000000000000000000000001"),
            ("1e28", "10000000000000000000000000000"),
        ] {
            assert_eq!(parse_decimal(text).unwrap().to_string(), exact, "{text}");
        }
        for (text, says) in [
            (
                "0.12345678901234567890123456789012",
                "more than 28 digits after the decimal point",
            ),
            (
                "0.0000000000000000000000000000001",
                "more than 28 digits after the decimal point",
            ),
            ("79228162514264337593543950336", "more significant digits"),
            ("1234567890123456789012345678.9012", "more significant digits"),
            ("1e29", "more significant digits"),
            ("1e999999999999999999999", "too large"),
            ("1e-999999999999999999999", "more than 28 digits after"),
            ("1.", "expected digits after the decimal point"),
            (".5", "expected digits"),
            ("1_000", "expected digits"),
            ("NaN", "expected digits"),
            ("1e", "exponent"),
            ("1e+-2", "exponent"),
            ("١٢", "expected digits"),
        ] {
            let error = parse_decimal(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains("Edm.Decimal"), "{error}");
        }
    }

    #[test]
    fn error_messages_escape_outside_text() {
        let error = "\u{1b}[31mP1D\u{202e}\n"
            .parse::<Duration>()
            .unwrap_err()
            .to_string();
        assert!(
            !error.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{error:?}"
        );
        assert!(error.contains(r"\u{1b}[31mP1D\u{202e}\n"), "{error}");
        let long = "x".repeat(500);
        let error = long.parse::<Guid>().unwrap_err();
        assert_eq!(error.value, format!("{}…", "x".repeat(80)));
    }

    /// Near-valid text for each parser: the deeper paths see digits, signs and odd characters.
    fn nearly(pattern: &'static str) -> impl Strategy<Value = String> {
        prop_oneof![pattern, any::<String>(), "[-+:.TZPDHMSé0-9]{0,30}"]
    }

    proptest! {
        #[test]
        fn parsers_give_a_value_or_an_error_never_a_panic(
            duration in nearly("[-+]?P([0-9]{1,21}D)?(T([0-9]{1,21}H)?([0-9]{1,21}M)?([0-9]{1,21}(\\.[0-9]{0,12})?S)?)?"),
            instant in nearly("[0-9]{4,5}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,12})?)?(Z|[-+][0-9]{2}:[0-9]{2})"),
            decimal in nearly("[-+]?[0-9]{1,35}(\\.[0-9]{1,35})?([eE][-+]?[0-9]{1,22})?"),
            other in nearly("[0-9a-fA-F=+/_-]{0,40}"),
        ) {
            let _ = duration.parse::<Duration>();
            let _ = instant.parse::<DateTimeOffset>();
            let date = instant.split(['T', 't']).next().unwrap_or_default();
            let _ = date.parse::<Date>();
            let _ = instant.get(11..).unwrap_or_default().parse::<TimeOfDay>();
            let _ = parse_decimal(&decimal);
            let _ = other.parse::<Guid>();
            let _ = other.parse::<Binary>();
            for text in [&duration, &instant, &decimal, &other] {
                let _ = text.parse::<Duration>();
                let _ = text.parse::<DateTimeOffset>();
                let _ = text.parse::<Date>();
                let _ = text.parse::<TimeOfDay>();
                let _ = text.parse::<Guid>();
                let _ = text.parse::<Binary>();
                let _ = parse_decimal(text);
            }
        }

        /// A decimal that parses is the written value exactly; one that does not is not representable.
        #[test]
        fn decimals_parse_exactly_or_not_at_all(text in "[-+]?[0-9]{1,35}(\\.[0-9]{1,35})?([eE][-+]?[0-9]{1,2})?") {
            let (written_digits, written_exponent) = canonical(&text);
            let representable = if written_digits.is_empty() {
                true
            } else {
                let scale = (-written_exponent).max(0);
                let mantissa_len = written_digits.len() as i64 + written_exponent.max(0);
                scale <= 28
                    && (mantissa_len < 29
                        || mantissa_len == 29 && format!("{written_digits:0<29}").as_str() <= DECIMAL_MAX_MANTISSA)
            };
            match parse_decimal(&text) {
                Ok(value) => {
                    prop_assert!(representable, "{} parsed as {}", text, value);
                    prop_assert_eq!(canonical(&value.to_string()), (written_digits, written_exponent), "{}", text);
                }
                Err(error) => prop_assert!(!representable, "{}: {}", text, error),
            }
        }

        #[test]
        fn decimals_round_trip_with_their_scale(lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(), negative in any::<bool>(), scale in 0u32..=28) {
            let value = Decimal::from_parts(lo, mid, hi, negative, scale);
            let back = parse_decimal(&value.to_string()).unwrap();
            prop_assert_eq!(back, value);
            prop_assert_eq!(back.scale(), value.scale());
        }

        #[test]
        fn full_range_durations_round_trip(seconds in any::<i64>(), nanos in -999_999_999i32..=999_999_999) {
            let d = Duration(time::Duration::new(seconds, nanos));
            prop_assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }

        #[test]
        fn times_of_day_and_guids_round_trip(hour in 0u8..24, minute in 0u8..60, second in 0u8..60, nanos in 0u32..1_000_000_000, guid in any::<u128>()) {
            let t = TimeOfDay(time::Time::from_hms_nano(hour, minute, second, nanos).unwrap());
            prop_assert_eq!(t.to_string().parse::<TimeOfDay>().unwrap(), t);
            let g = Guid(uuid::Uuid::from_u128(guid));
            prop_assert_eq!(g.to_string().parse::<Guid>().unwrap(), g);
        }
    }

    /// A decimal text as (significant digits without leading or trailing zeros, power of ten).
    fn canonical(text: &str) -> (String, i64) {
        let text = text.trim_start_matches(['-', '+']);
        let (mantissa, exponent) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i64>().unwrap()),
            None => (text, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = format!("{whole}{fraction}");
        let digits = all.trim_start_matches('0');
        let trimmed = digits.trim_end_matches('0');
        if trimmed.is_empty() {
            return (String::new(), 0);
        }
        let exponent = exponent - fraction.len() as i64 + (digits.len() - trimmed.len()) as i64;
        (trimmed.to_string(), exponent)
    }
}
