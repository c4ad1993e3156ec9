//! Tables and values for people (the `--json` forms are in `commands`).

use dualsync::engine::{ErrorEntry, MapStatus};
use serde::Serialize;

use crate::config::safe;

/// A plain text table: a header and rows, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// `1h 2m`, `3m 4s`, `5s`, `120ms`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Unix milliseconds as `2025-01-31 12:00:00Z`.
pub fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// The status table.
pub fn status_table(status: &[MapStatus]) -> String {
    let now = dualsync::engine::now_ms();
    let rows: Vec<Vec<String>> = status
        .iter()
        .map(|s| {
            vec![
                s.map.clone(),
                s.state.clone(),
                if s.companies.is_empty() {
                    "(all)".into()
                } else {
                    s.companies.join(",")
                },
                format!("{} -> DV, {} -> F&O", s.synced_to_dv, s.synced_to_fo),
                s.queued.to_string(),
                s.errors.to_string(),
                s.lag_ms.map(duration_ms).unwrap_or_else(|| "-".into()),
                s.last_change
                    .map(|t| format!("{} ago", duration_ms(now - t)))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "MAP",
            "STATE",
            "COMPANIES",
            "SYNCED",
            "QUEUED",
            "ERRORS",
            "LAG",
            "LAST CHANGE",
        ],
        &rows,
    );
    for s in status {
        if let Some(reason) = &s.reason {
            out.push_str(&format!("{}: {}\n", s.map, safe(reason)));
        }
    }
    out
}

/// An error-log entry as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    pub id: i64,
    pub map: String,
    pub company: String,
    pub key: String,
    pub direction: &'static str,
    pub class: &'static str,
    pub op: &'static str,
    pub reason: String,
    pub attempts: u32,
    pub first_seen: i64,
    pub last_seen: i64,
    pub record: serde_json::Value,
}

impl From<&ErrorEntry> for ErrorJson {
    fn from(e: &ErrorEntry) -> Self {
        ErrorJson {
            id: e.id,
            map: e.map.clone(),
            company: e.company.clone(),
            key: e.key.clone(),
            direction: e.flow.as_str(),
            class: e.class.as_str(),
            op: match e.op {
                dualsync::engine::Op::Upsert => "upsert",
                dualsync::engine::Op::Delete => "delete",
            },
            reason: e.reason.clone(),
            attempts: e.attempts,
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            record: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::String(e.payload.clone())),
        }
    }
}

fn direction_text(flow: dualsync::engine::Flow) -> &'static str {
    match flow {
        dualsync::engine::Flow::FoToDv => "F&O -> DV",
        dualsync::engine::Flow::DvToFo => "DV -> F&O",
    }
}

/// The error log as a table.
pub fn errors_table(errors: &[ErrorEntry]) -> String {
    if errors.is_empty() {
        return "no errors\n".into();
    }
    let rows: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            let reason = safe(&e.reason);
            let reason = if reason.chars().count() > 140 {
                format!("{}...", reason.chars().take(137).collect::<String>())
            } else {
                reason
            };
            vec![
                e.id.to_string(),
                e.map.clone(),
                if e.company.is_empty() {
                    "-".into()
                } else {
                    e.company.clone()
                },
                safe(&e.key.replace('\u{1f}', "|")),
                direction_text(e.flow).into(),
                e.class.as_str().into(),
                reason,
            ]
        })
        .collect();
    table(
        &["ID", "MAP", "COMPANY", "KEY", "DIRECTION", "CLASS", "REASON"],
        &rows,
    )
}

/// One error-log entry in full.
pub fn error_detail(e: &ErrorEntry) -> String {
    let record = serde_json::from_str::<serde_json::Value>(&e.payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| e.payload.clone());
    format!(
        "error {id}\n  map:        {map}\n  company:    {company}\n  key:        {key}\n  direction:  {direction}\n  class:      {class}\n  attempts:   {attempts}\n  first seen: {first}\n  last seen:  {last}\n  reason:     {reason}\n  record:\n{record}\n",
        id = e.id,
        map = e.map,
        company = if e.company.is_empty() { "-" } else { &e.company },
        key = safe(&e.key.replace('\u{1f}', "|")),
        direction = direction_text(e.flow),
        class = e.class.as_str(),
        attempts = e.attempts,
        first = timestamp(e.first_seen),
        last = timestamp(e.last_seen),
        reason = safe(&e.reason),
        record = record
            .lines()
            .map(|l| format!("    {}", safe(l)))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
