//! OData primitive values in their JSON and URL text forms, compared as Dataverse and F&O compare them:
//! exact base-10 numbers, strings under a case mapping, Guids, dates, times and durations. Nothing here
//! allocates; [`crate::filter`] builds `$filter` and `$orderby` on it.

use std::cmp::Ordering;
use std::iter;

use time::{Date, Month, Time, UtcOffset};

pub(crate) fn is_base64(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
}

pub(crate) const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

pub(crate) fn day_start(julian_day: i32) -> i128 {
    i128::from(julian_day) * NANOS_PER_DAY
}

pub(crate) fn instant(date: Date, time: Time, offset: UtcOffset) -> i128 {
    let seconds = i128::from(time.hour()) * 3600 + i128::from(time.minute()) * 60 + i128::from(time.second())
        - i128::from(offset.whole_seconds());
    day_start(date.to_julian_day()) + seconds * 1_000_000_000 + i128::from(time.nanosecond())
}

// ---------------------------------------------------------------------------------------------------------
// Strings, with the case mapping of `tolower`/`toupper` and Dataverse's collation applied lazily
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    AsIs,
    Lower,
    Upper,
}

/// A string as it compares: its text and the case mapping still to apply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a> {
    pub(crate) text: &'a str,
    pub(crate) case: Case,
}

/// The chars one char maps to.
#[derive(Clone)]
pub(crate) enum CaseChar {
    One(Option<char>),
    Lower(std::char::ToLowercase),
    Upper(std::char::ToUppercase),
}

impl CaseChar {
    pub(crate) fn new(c: char, case: Case) -> Self {
        match case {
            Case::AsIs => Self::One(Some(c)),
            Case::Lower if c.is_ascii() => Self::One(Some(c.to_ascii_lowercase())),
            Case::Upper if c.is_ascii() => Self::One(Some(c.to_ascii_uppercase())),
            Case::Lower => Self::Lower(c.to_lowercase()),
            Case::Upper => Self::Upper(c.to_uppercase()),
        }
    }
}

impl Iterator for CaseChar {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self {
            Self::One(c) => c.take(),
            Self::Lower(chars) => chars.next(),
            Self::Upper(chars) => chars.next(),
        }
    }
}

pub(crate) fn map_ascii(b: u8, case: Case) -> u8 {
    match case {
        Case::AsIs => b,
        Case::Lower => b.to_ascii_lowercase(),
        Case::Upper => b.to_ascii_uppercase(),
    }
}

impl<'a> Text<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            case: Case::AsIs,
        }
    }

    pub(crate) fn with(self, text: &'a str) -> Self {
        Self {
            text,
            case: self.case,
        }
    }

    /// Under a case-insensitive collation both sides compare lowercased.
    pub(crate) fn folded(self, fold: bool) -> Self {
        if fold {
            Self {
                case: Case::Lower,
                ..self
            }
        } else {
            self
        }
    }

    pub(crate) fn chars(self) -> impl Iterator<Item = char> + Clone + 'a {
        let case = self.case;
        self.text.chars().flat_map(move |c| CaseChar::new(c, case))
    }

    pub(crate) fn bytes(self) -> impl Iterator<Item = u8> + 'a {
        let case = self.case;
        self.text.bytes().map(move |b| map_ascii(b, case))
    }
}

pub(crate) fn as_is(a: Text<'_>, b: Text<'_>) -> bool {
    a.case == Case::AsIs && b.case == Case::AsIs
}

pub(crate) fn ascii(a: Text<'_>, b: Text<'_>) -> bool {
    a.text.is_ascii() && b.text.is_ascii()
}

pub(crate) fn text_cmp(a: Text<'_>, b: Text<'_>) -> Ordering {
    if as_is(a, b) {
        a.text.cmp(b.text)
    } else if ascii(a, b) {
        a.bytes().cmp(b.bytes())
    } else {
        a.chars().cmp(b.chars())
    }
}

/// The byte length of the prefix of `h` that matches all of `n`, if it does.
pub(crate) fn prefix_len(h: Text<'_>, n: Text<'_>) -> Option<usize> {
    if as_is(h, n) {
        return h.text.starts_with(n.text).then_some(n.text.len());
    }
    let mut needle = n.chars().peekable();
    for (i, c) in h.text.char_indices() {
        if needle.peek().is_none() {
            return Some(i);
        }
        for mapped in CaseChar::new(c, h.case) {
            if needle.next() != Some(mapped) {
                return None;
            }
        }
    }
    needle.peek().is_none().then_some(h.text.len())
}

pub(crate) fn boundaries(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.char_indices().map(|(i, _)| i).chain(iter::once(text.len()))
}

/// The byte offset just past the leftmost match of `n` in `h`.
pub(crate) fn find_end(h: Text<'_>, n: Text<'_>) -> Option<usize> {
    boundaries(h.text).find_map(|i| prefix_len(h.with(h.text.get(i..)?), n).map(|len| i + len))
}

pub(crate) fn contains(h: Text<'_>, n: Text<'_>) -> bool {
    if as_is(h, n) {
        h.text.contains(n.text)
    } else if n.text.is_empty() {
        true
    } else if ascii(h, n) {
        let needle = n.text.as_bytes();
        h.text.as_bytes().windows(needle.len()).any(|w| {
            w.iter()
                .zip(needle)
                .all(|(&x, &y)| map_ascii(x, h.case) == map_ascii(y, n.case))
        })
    } else {
        find_end(h, n).is_some()
    }
}

pub(crate) fn ends_with(h: Text<'_>, n: Text<'_>) -> bool {
    if as_is(h, n) {
        return h.text.ends_with(n.text);
    }
    if ascii(h, n) {
        let skip = h.text.len().checked_sub(n.text.len());
        return skip.is_some_and(|skip| h.bytes().skip(skip).eq(n.bytes()));
    }
    boundaries(h.text)
        .any(|i| h.text.get(i..).and_then(|rest| prefix_len(h.with(rest), n)) == Some(h.text.len() - i))
}

/// F&O's `*` wildcard: `*` matches any run of chars, everything else itself.
pub(crate) fn wildcard_match(h: Text<'_>, pattern: Text<'_>) -> bool {
    let mut segments = pattern.text.split('*').peekable();
    let Some(first) = segments.next() else { return true };
    let Some(mut pos) = prefix_len(h, pattern.with(first)) else {
        return false;
    };
    while let Some(segment) = segments.next() {
        let Some(rest) = h.text.get(pos..) else {
            return false;
        };
        if segments.peek().is_none() {
            return ends_with(h.with(rest), pattern.with(segment));
        }
        match find_end(h.with(rest), pattern.with(segment)) {
            Some(end) => pos += end,
            None => return false,
        }
    }
    pos == h.text.len()
}

/// Base64 text with the URL-safe alphabet mapped to the standard one and padding dropped.
pub(crate) fn base64_units(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.bytes().filter(|&b| b != b'=').map(|b| match b {
        b'-' => b'+',
        b'_' => b'/',
        b => b,
    })
}

// ---------------------------------------------------------------------------------------------------------
// Exact decimal comparison
// ---------------------------------------------------------------------------------------------------------

/// A decimal number's text, normalized without allocating: `±0.(hi ++ lo) × 10^exponent`, the digits with
/// no leading or trailing zeros (empty for zero). Two values compare exactly, whatever their size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec<'a> {
    pub(crate) negative: bool,
    pub(crate) exponent: i64,
    pub(crate) hi: &'a str,
    pub(crate) lo: &'a str,
}

impl<'a> Dec<'a> {
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exp) = match unsigned.find(['e', 'E']) {
            Some(i) => (unsigned.get(..i)?, unsigned.get(i + 1..)?.parse::<i64>().ok()?),
            None => (unsigned, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let (exponent, hi, lo) = if int.is_empty() {
            let significant = frac.trim_start_matches('0');
            let zeros = i64::try_from(frac.len() - significant.len()).ok()?;
            (exp.checked_sub(zeros)?, significant.trim_end_matches('0'), "")
        } else {
            let exponent = exp.checked_add(i64::try_from(int.len()).ok()?)?;
            match frac.trim_end_matches('0') {
                "" => (exponent, int.trim_end_matches('0'), ""),
                frac => (exponent, int, frac),
            }
        };
        if hi.is_empty() {
            return Some(Self {
                negative: false,
                exponent: 0,
                hi: "",
                lo: "",
            });
        }
        Some(Self {
            negative,
            exponent,
            hi,
            lo,
        })
    }

    pub(crate) fn signum(self) -> i8 {
        match (self.hi.is_empty(), self.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }
}

pub(crate) fn cmp_dec(a: Dec<'_>, b: Dec<'_>) -> Ordering {
    let (sa, sb) = (a.signum(), b.signum());
    if sa != sb || sa == 0 {
        return sa.cmp(&sb);
    }
    let magnitude = a.exponent.cmp(&b.exponent).then_with(|| {
        a.hi.bytes()
            .chain(a.lo.bytes())
            .cmp(b.hi.bytes().chain(b.lo.bytes()))
    });
    if sa < 0 { magnitude.reverse() } else { magnitude }
}

// ---------------------------------------------------------------------------------------------------------
// Guids, dates, times and durations in their OData text forms
// ---------------------------------------------------------------------------------------------------------

/// `8-4-4-4-12` hex digits, either case.
pub(crate) fn parse_guid(text: &str) -> Option<u128> {
    let b = text.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut value = 0u128;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
        } else {
            value = value << 4 | u128::from(char::from(c).to_digit(16)?);
        }
    }
    Some(value)
}

/// `n` ASCII digits of `b` from `from`, as a number.
pub(crate) fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
    b.get(from..from.checked_add(n)?)?
        .iter()
        .try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = i32::try_from(digits(b, 0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(b, 5, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(b, 8, 2)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `HH:MM[:SS[.fffffffff]]` at the start of `b`, and its length.
pub(crate) fn parse_clock(b: &[u8]) -> Option<(Time, usize)> {
    let hour = digits(b, 0, 2)?;
    let minute = digits(b, 3, 2).filter(|_| b.get(2) == Some(&b':'))?;
    let (mut second, mut nanos, mut len) = (0, 0, 5);
    if b.get(5) == Some(&b':') {
        second = digits(b, 6, 2)?;
        len = 8;
        if b.get(8) == Some(&b'.') {
            let fraction = b.iter().skip(9).take_while(|c| c.is_ascii_digit()).count();
            if fraction == 0 {
                return None;
            }
            let kept = fraction.min(9);
            let scale = 10u32.pow(u32::try_from(9 - kept).ok()?);
            nanos = b
                .get(9..9 + kept)?
                .iter()
                .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'))
                * scale;
            len = 9 + fraction;
        }
    }
    let [hour, minute, second] = [hour, minute, second].map(|n| u8::try_from(n).unwrap_or(u8::MAX));
    Some((Time::from_hms_nano(hour, minute, second, nanos).ok()?, len))
}

pub(crate) fn parse_time(text: &str) -> Option<Time> {
    parse_clock(text.as_bytes()).and_then(|(time, len)| (len == text.len()).then_some(time))
}

/// `YYYY-MM-DDTHH:MM[:SS[.f]](Z|±HH:MM)`.
pub(crate) fn parse_date_time(text: &str) -> Option<(Date, Time, UtcOffset)> {
    let date = parse_date(text.get(..10)?)?;
    let b = text.as_bytes();
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let rest = b.get(11..)?;
    let (time, len) = parse_clock(rest)?;
    let offset = match rest.get(len..)? {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), zone @ ..] if zone.len() == 5 && zone.get(2) == Some(&b':') => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let hours = i8::try_from(digits(zone, 0, 2)?).ok()?;
            let minutes = i8::try_from(digits(zone, 3, 2)?).ok()?;
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };
    Some((date, time, offset))
}

/// ISO 8601 day-time duration: `[-]P[nD][T[nH][nM][n[.f]S]]`.
pub(crate) fn parse_duration(text: &str) -> Option<time::Duration> {
    let b = text.as_bytes();
    let (negative, mut i) = if b.first() == Some(&b'-') {
        (true, 1)
    } else {
        (false, 0)
    };
    if b.get(i) != Some(&b'P') {
        return None;
    }
    i += 1;
    let (mut seconds, mut nanos) = (0i64, 0i32);
    // Units must come in order: D (1), then after T: H (2), M (3), S (4).
    let (mut rank, mut in_time, mut components, mut time_components) = (0u8, false, 0, 0);
    while let Some(&c) = b.get(i) {
        if c == b'T' {
            if in_time {
                return None;
            }
            in_time = true;
            i += 1;
            continue;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let whole: i64 = text.get(start..i)?.parse().ok()?;
        let mut fraction = None;
        if b.get(i) == Some(&b'.') {
            let from = i + 1;
            let count = b.iter().skip(from).take_while(|c| c.is_ascii_digit()).count();
            if count == 0 {
                return None;
            }
            let kept = count.min(9);
            let scale = 10i32.pow(u32::try_from(9 - kept).ok()?);
            let value = b
                .get(from..from + kept)?
                .iter()
                .fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'));
            fraction = Some(value * scale);
            i = from + count;
        }
        let (unit, unit_seconds) = match (b.get(i), in_time) {
            (Some(b'D'), false) => (1, 86_400),
            (Some(b'H'), true) => (2, 3_600),
            (Some(b'M'), true) => (3, 60),
            (Some(b'S'), true) => (4, 1),
            _ => return None,
        };
        if unit <= rank || (fraction.is_some() && unit != 4) {
            return None;
        }
        seconds = seconds.checked_add(whole.checked_mul(unit_seconds)?)?;
        nanos = fraction.unwrap_or(0);
        rank = unit;
        components += 1;
        if in_time {
            time_components += 1;
        }
        i += 1;
    }
    if components == 0 || (in_time && time_components == 0) {
        return None;
    }
    let duration = time::Duration::new(seconds, nanos);
    if negative {
        duration.checked_neg()
    } else {
        Some(duration)
    }
}
