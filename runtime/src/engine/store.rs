//! The engine's durable state: maps and their state, initial-sync checkpoints, delta links, record
//! links (the integration key ↔ F&O key ↔ Dataverse id, with ETags and the fingerprints of what each
//! side holds), the durable queue of changes, the error log and the lookup cache.
//!
//! [`Store`] is the trait the engine uses; [`SqliteStore`] is the embedded default (one file, WAL,
//! `synchronous=FULL` unless told otherwise, versioned migrations in `PRAGMA user_version`). Every
//! change the engine makes after a write lands in one [`Commit`], applied in one transaction: the link
//! updates, the queue rows they cover, the errors, and the checkpoint move together or not at all.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state file {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("state store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "state file {path} was written by a newer dualsync (schema version {found}, this one knows {known}): upgrade dualsync"
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
}

/// Which way a change flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flow {
    FoToDv,
    DvToFo,
}

impl Flow {
    /// Changes flowing out of `side`.
    pub fn from_side(side: crate::map::Side) -> Flow {
        match side {
            crate::map::Side::Fo => Flow::FoToDv,
            crate::map::Side::Dv => Flow::DvToFo,
        }
    }

    /// The other direction.
    pub fn opposite(self) -> Flow {
        match self {
            Flow::FoToDv => Flow::DvToFo,
            Flow::DvToFo => Flow::FoToDv,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flow::FoToDv => "fo_to_dv",
            Flow::DvToFo => "dv_to_fo",
        }
    }

    pub fn parse(text: &str) -> Option<Flow> {
        match text {
            "fo_to_dv" => Some(Flow::FoToDv),
            "dv_to_fo" => Some(Flow::DvToFo),
            _ => None,
        }
    }
}

/// What a queued change asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Create or update the other side's record from this one.
    Upsert,
    /// The record was deleted on its side: delete the linked record.
    Delete,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Delete => "delete",
        }
    }
    fn parse(text: &str) -> Op {
        if text == "delete" { Op::Delete } else { Op::Upsert }
    }
}

/// A change waiting to be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    /// Order of arrival (0 until stored).
    pub seq: i64,
    pub map: String,
    pub company: String,
    pub flow: Flow,
    /// The integration key (see `engine::spec`): the same text from either side.
    pub key: String,
    pub op: Op,
    /// The source record as read (a JSON object).
    pub payload: String,
    pub attempts: u32,
    /// Unix milliseconds before which the item is not tried again.
    pub not_before: i64,
    /// Unix milliseconds of the first attempt's arrival.
    pub first_seen: i64,
}

/// What the engine knows of one record pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub map: String,
    pub company: String,
    pub key: String,
    /// The Dataverse record's id.
    pub dv_id: Option<String>,
    /// The F&O record's key path (`dataAreaId='usmf',CustomerAccount='US-001'`).
    pub fo_key: Option<String>,
    pub etag_dv: Option<String>,
    pub etag_fo: Option<String>,
    /// Fingerprint of the mapped columns Dataverse holds (as last read or written by the engine).
    pub known_dv: Option<String>,
    /// Fingerprint of the mapped columns F&O holds.
    pub known_fo: Option<String>,
}

/// An error class, as dual-write's error log groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The record cannot be written as it is (a value, a missing lookup, a rule of the service).
    Application,
    /// The service or the network failed, and retries did not help in time.
    System,
    /// The record changed on the target since it was read (`If-Match` failed).
    Concurrency,
    /// Both sides changed between syncs; the map's rule decided.
    Conflict,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Application => "application",
            ErrorClass::System => "system",
            ErrorClass::Concurrency => "concurrency",
            ErrorClass::Conflict => "conflict",
        }
    }
    pub fn parse(text: &str) -> ErrorClass {
        match text {
            "system" => ErrorClass::System,
            "concurrency" => ErrorClass::Concurrency,
            "conflict" => ErrorClass::Conflict,
            _ => ErrorClass::Application,
        }
    }
}

/// One entry of the error log.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorEntry {
    pub id: i64,
    pub map: String,
    pub company: String,
    pub key: String,
    pub flow: Flow,
    pub class: ErrorClass,
    pub reason: String,
    /// The source record, so that a retry has what it needs.
    pub payload: String,
    pub op: Op,
    pub attempts: u32,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Where an initial sync of a map and company stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub map: String,
    pub company: String,
    /// The integration key of the last record of the last committed batch.
    pub last_key: Option<String>,
    pub count: u64,
    pub done: bool,
}

/// A map's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapState {
    pub name: String,
    pub paused: bool,
    pub reason: Option<String>,
    /// Records written, per direction, since the state file was made.
    pub synced_to_dv: u64,
    pub synced_to_fo: u64,
    /// Unix milliseconds of the last applied change.
    pub last_change: Option<i64>,
}

/// Everything one committed batch changes, applied in one transaction.
#[derive(Debug, Default)]
pub struct Commit {
    pub links: Vec<Link>,
    /// Links to forget (the records were deleted).
    pub unlink: Vec<(String, String, String)>,
    /// Queue rows done: every row of (map, company, flow, key) with `seq <= max_seq`.
    pub done: Vec<(String, String, Flow, String, i64)>,
    /// Queue rows to try again later (same seq; attempts and not_before updated).
    pub retry: Vec<QueueItem>,
    /// New entries of the error log (their ids are assigned).
    pub errors: Vec<ErrorEntry>,
    /// New changes to queue (a second pass for a self reference, a repair).
    pub enqueue: Vec<QueueItem>,
    pub checkpoint: Option<Checkpoint>,
    /// Records written: (map, flow, count, unix ms).
    pub synced: Vec<(String, Flow, u64, i64)>,
}

/// Counts for the status table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: u64,
    pub errors: u64,
    /// Unix milliseconds of the oldest queued change.
    pub oldest_queued: Option<i64>,
    pub links: u64,
}

/// The engine's durable state, behind a trait so that a shared store (PostgreSQL) can follow.
pub trait Store: Send + Sync {
    fn map_state(&self, map: &str) -> Result<MapState, StoreError>;
    fn set_paused(&self, map: &str, paused: bool, reason: Option<&str>) -> Result<(), StoreError>;
    fn checkpoint(&self, map: &str, company: &str) -> Result<Checkpoint, StoreError>;
    /// Forgets the checkpoint, so the next initial sync starts from the beginning.
    fn reset_checkpoint(&self, map: &str, company: &str) -> Result<(), StoreError>;
    fn delta_link(&self, map: &str) -> Result<Option<String>, StoreError>;
    /// Queues `items` and moves the delta link of `map` in the same transaction.
    fn enqueue(&self, items: &[QueueItem], delta: Option<(&str, Option<&str>)>) -> Result<(), StoreError>;
    /// Up to `limit` queued changes ready at `now`, oldest first (none of a paused map).
    fn ready(&self, now: i64, limit: usize) -> Result<Vec<QueueItem>, StoreError>;
    fn links(&self, map: &str, company: &str, keys: &[&str]) -> Result<Vec<Link>, StoreError>;
    fn all_links(&self, map: &str, company: &str) -> Result<Vec<Link>, StoreError>;
    fn commit(&self, commit: Commit) -> Result<(), StoreError>;
    fn errors(&self, map: Option<&str>) -> Result<Vec<ErrorEntry>, StoreError>;
    fn error(&self, id: i64) -> Result<Option<ErrorEntry>, StoreError>;
    /// Moves error entries back to the queue (all of them when `id` is `None`); returns how many.
    fn retry_errors(&self, id: Option<i64>, now: i64) -> Result<usize, StoreError>;
    fn lookup(&self, set: &str, column: &str, value: &str) -> Result<Option<String>, StoreError>;
    fn put_lookup(&self, set: &str, column: &str, value: &str, id: &str) -> Result<(), StoreError>;
    fn counts(&self, map: &str) -> Result<Counts, StoreError>;
}

/// The migrations, in order; `PRAGMA user_version` says how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE maps (
        name TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        synced_to_dv INTEGER NOT NULL DEFAULT 0,
        synced_to_fo INTEGER NOT NULL DEFAULT 0,
        last_change INTEGER
    );
    CREATE TABLE checkpoints (
        map TEXT NOT NULL, company TEXT NOT NULL,
        last_key TEXT, count INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (map, company)
    );
    CREATE TABLE delta_links (map TEXT PRIMARY KEY, link TEXT NOT NULL);
    CREATE TABLE links (
        map TEXT NOT NULL, company TEXT NOT NULL, key TEXT NOT NULL,
        dv_id TEXT, fo_key TEXT, etag_dv TEXT, etag_fo TEXT, known_dv TEXT, known_fo TEXT,
        PRIMARY KEY (map, company, key)
    );
    CREATE TABLE queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        map TEXT NOT NULL, company TEXT NOT NULL, flow TEXT NOT NULL, key TEXT NOT NULL,
        op TEXT NOT NULL, payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, not_before INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL
    );
    CREATE INDEX queue_key ON queue (map, company, flow, key);
    CREATE INDEX queue_ready ON queue (not_before, seq);
    CREATE TABLE errors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        map TEXT NOT NULL, company TEXT NOT NULL, key TEXT NOT NULL, flow TEXT NOT NULL,
        class TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL, op TEXT NOT NULL,
        attempts INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL
    );
    CREATE INDEX errors_map ON errors (map);
    CREATE TABLE lookup_cache (
        target TEXT NOT NULL, column TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,
        PRIMARY KEY (target, column, value)
    );",
];

/// How hard a commit is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives a power cut (the default).
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, not of the machine.
    Normal,
}

/// The embedded store: one SQLite file.
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

fn open_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl SqliteStore {
    /// Opens (or creates) the state file and runs the migrations it lacks.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(|e| open_error(path, e))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| open_error(path, e))?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        connection
            .execute_batch(&format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON;"
            ))
            .map_err(|e| open_error(path, e))?;
        let store = SqliteStore {
            connection: Mutex::new(connection),
        };
        store.migrate(path)?;
        Ok(store)
    }

    /// An in-memory store (tests, `demo`).
    pub fn in_memory() -> Result<Self, StoreError> {
        let connection = Connection::open_in_memory()?;
        let store = SqliteStore {
            connection: Mutex::new(connection),
        };
        store.migrate(Path::new(":memory:"))?;
        Ok(store)
    }

    fn migrate(&self, path: &Path) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known,
            });
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = connection.transaction()?;
            tx.execute_batch(migration)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn queue_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<QueueItem> {
    let flow: String = row.get(3)?;
    let op: String = row.get(5)?;
    Ok(QueueItem {
        seq: row.get(0)?,
        map: row.get(1)?,
        company: row.get(2)?,
        flow: Flow::parse(&flow).unwrap_or(Flow::FoToDv),
        key: row.get(4)?,
        op: Op::parse(&op),
        payload: row.get(6)?,
        attempts: row.get::<_, i64>(7)? as u32,
        not_before: row.get(8)?,
        first_seen: row.get(9)?,
    })
}

fn error_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<ErrorEntry> {
    let flow: String = row.get(4)?;
    let class: String = row.get(5)?;
    let op: String = row.get(8)?;
    Ok(ErrorEntry {
        id: row.get(0)?,
        map: row.get(1)?,
        company: row.get(2)?,
        key: row.get(3)?,
        flow: Flow::parse(&flow).unwrap_or(Flow::FoToDv),
        class: ErrorClass::parse(&class),
        reason: row.get(6)?,
        payload: row.get(7)?,
        op: Op::parse(&op),
        attempts: row.get::<_, i64>(9)? as u32,
        first_seen: row.get(10)?,
        last_seen: row.get(11)?,
    })
}

fn link_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        map: row.get(0)?,
        company: row.get(1)?,
        key: row.get(2)?,
        dv_id: row.get(3)?,
        fo_key: row.get(4)?,
        etag_dv: row.get(5)?,
        etag_fo: row.get(6)?,
        known_dv: row.get(7)?,
        known_fo: row.get(8)?,
    })
}

const LINK_COLUMNS: &str = "map, company, key, dv_id, fo_key, etag_dv, etag_fo, known_dv, known_fo";
const ERROR_COLUMNS: &str =
    "id, map, company, key, flow, class, reason, payload, op, attempts, first_seen, last_seen";
const QUEUE_COLUMNS: &str = "seq, map, company, flow, key, op, payload, attempts, not_before, first_seen";

fn insert_queue(tx: &rusqlite::Transaction<'_>, item: &QueueItem) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO queue (map, company, flow, key, op, payload, attempts, not_before, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        item.map,
        item.company,
        item.flow.as_str(),
        item.key,
        item.op.as_str(),
        item.payload,
        item.attempts,
        item.not_before,
        item.first_seen
    ])?;
    Ok(())
}

fn ensure_map(tx: &rusqlite::Transaction<'_>, map: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO maps (name) VALUES (?1)")?
        .execute(params![map])?;
    Ok(())
}

impl Store for SqliteStore {
    fn map_state(&self, map: &str) -> Result<MapState, StoreError> {
        let connection = self.lock();
        let state = connection
            .query_row(
                "SELECT paused, reason, synced_to_dv, synced_to_fo, last_change FROM maps WHERE name = ?1",
                params![map],
                |r| {
                    Ok(MapState {
                        name: map.to_string(),
                        paused: r.get::<_, i64>(0)? != 0,
                        reason: r.get(1)?,
                        synced_to_dv: r.get::<_, i64>(2)? as u64,
                        synced_to_fo: r.get::<_, i64>(3)? as u64,
                        last_change: r.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(state.unwrap_or(MapState {
            name: map.to_string(),
            ..MapState::default()
        }))
    }

    fn set_paused(&self, map: &str, paused: bool, reason: Option<&str>) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        ensure_map(&tx, map)?;
        tx.execute(
            "UPDATE maps SET paused = ?2, reason = ?3 WHERE name = ?1",
            params![map, paused as i64, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn checkpoint(&self, map: &str, company: &str) -> Result<Checkpoint, StoreError> {
        let connection = self.lock();
        let found = connection
            .query_row(
                "SELECT last_key, count, done FROM checkpoints WHERE map = ?1 AND company = ?2",
                params![map, company],
                |r| {
                    Ok(Checkpoint {
                        map: map.to_string(),
                        company: company.to_string(),
                        last_key: r.get(0)?,
                        count: r.get::<_, i64>(1)? as u64,
                        done: r.get::<_, i64>(2)? != 0,
                    })
                },
            )
            .optional()?;
        Ok(found.unwrap_or(Checkpoint {
            map: map.to_string(),
            company: company.to_string(),
            ..Checkpoint::default()
        }))
    }

    fn reset_checkpoint(&self, map: &str, company: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "DELETE FROM checkpoints WHERE map = ?1 AND company = ?2",
            params![map, company],
        )?;
        Ok(())
    }

    fn delta_link(&self, map: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row("SELECT link FROM delta_links WHERE map = ?1", params![map], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn enqueue(&self, items: &[QueueItem], delta: Option<(&str, Option<&str>)>) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        for item in items {
            insert_queue(&tx, item)?;
        }
        match delta {
            Some((map, Some(link))) => {
                tx.execute(
                    "INSERT INTO delta_links (map, link) VALUES (?1, ?2)
                     ON CONFLICT (map) DO UPDATE SET link = excluded.link",
                    params![map, link],
                )?;
            }
            Some((map, None)) => {
                tx.execute("DELETE FROM delta_links WHERE map = ?1", params![map])?;
            }
            None => {}
        }
        tx.commit()?;
        Ok(())
    }

    fn ready(&self, now: i64, limit: usize) -> Result<Vec<QueueItem>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {QUEUE_COLUMNS} FROM queue WHERE not_before <= ?1
             AND map NOT IN (SELECT name FROM maps WHERE paused = 1) ORDER BY seq LIMIT ?2"
        ))?;
        let rows = statement.query_map(params![now, limit as i64], queue_item)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn links(&self, map: &str, company: &str, keys: &[&str]) -> Result<Vec<Link>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE map = ?1 AND company = ?2 AND key = ?3"
        ))?;
        let mut out = Vec::new();
        for key in keys {
            if let Some(link) = statement
                .query_row(params![map, company, key], link_row)
                .optional()?
            {
                out.push(link);
            }
        }
        Ok(out)
    }

    fn all_links(&self, map: &str, company: &str) -> Result<Vec<Link>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE map = ?1 AND company = ?2 ORDER BY key"
        ))?;
        let rows = statement.query_map(params![map, company], link_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO links (map, company, key, dv_id, fo_key, etag_dv, etag_fo, known_dv, known_fo)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (map, company, key) DO UPDATE SET dv_id = excluded.dv_id,
                   fo_key = excluded.fo_key, etag_dv = excluded.etag_dv, etag_fo = excluded.etag_fo,
                   known_dv = excluded.known_dv, known_fo = excluded.known_fo",
            )?;
            for l in &commit.links {
                upsert.execute(params![
                    l.map, l.company, l.key, l.dv_id, l.fo_key, l.etag_dv, l.etag_fo, l.known_dv, l.known_fo
                ])?;
            }
            let mut unlink =
                tx.prepare_cached("DELETE FROM links WHERE map = ?1 AND company = ?2 AND key = ?3")?;
            for (map, company, key) in &commit.unlink {
                unlink.execute(params![map, company, key])?;
            }
            let mut done = tx.prepare_cached(
                "DELETE FROM queue WHERE map = ?1 AND company = ?2 AND flow = ?3 AND key = ?4 AND seq <= ?5",
            )?;
            for (map, company, flow, key, seq) in &commit.done {
                done.execute(params![map, company, flow.as_str(), key, seq])?;
            }
            let mut retry =
                tx.prepare_cached("UPDATE queue SET attempts = ?2, not_before = ?3 WHERE seq = ?1")?;
            for item in &commit.retry {
                retry.execute(params![item.seq, item.attempts, item.not_before])?;
            }
            let mut error = tx.prepare_cached(
                "INSERT INTO errors (map, company, key, flow, class, reason, payload, op, attempts, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for e in &commit.errors {
                error.execute(params![
                    e.map,
                    e.company,
                    e.key,
                    e.flow.as_str(),
                    e.class.as_str(),
                    e.reason,
                    e.payload,
                    e.op.as_str(),
                    e.attempts,
                    e.first_seen,
                    e.last_seen
                ])?;
            }
        }
        for item in &commit.enqueue {
            insert_queue(&tx, item)?;
        }
        if let Some(c) = &commit.checkpoint {
            tx.execute(
                "INSERT INTO checkpoints (map, company, last_key, count, done) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (map, company) DO UPDATE SET last_key = excluded.last_key,
                   count = excluded.count, done = excluded.done",
                params![c.map, c.company, c.last_key, c.count as i64, c.done as i64],
            )?;
        }
        for (map, flow, count, at) in &commit.synced {
            ensure_map(&tx, map)?;
            let column = match flow {
                Flow::FoToDv => "synced_to_dv",
                Flow::DvToFo => "synced_to_fo",
            };
            tx.execute(
                &format!("UPDATE maps SET {column} = {column} + ?2, last_change = ?3 WHERE name = ?1"),
                params![map, *count as i64, at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn errors(&self, map: Option<&str>) -> Result<Vec<ErrorEntry>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {ERROR_COLUMNS} FROM errors WHERE ?1 IS NULL OR map = ?1 ORDER BY id"
        ))?;
        let rows = statement.query_map(params![map], error_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn error(&self, id: i64) -> Result<Option<ErrorEntry>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!("SELECT {ERROR_COLUMNS} FROM errors WHERE id = ?1"),
                params![id],
                error_entry,
            )
            .optional()?)
    }

    fn retry_errors(&self, id: Option<i64>, now: i64) -> Result<usize, StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        let entries: Vec<ErrorEntry> = {
            let mut statement = tx.prepare(&format!(
                "SELECT {ERROR_COLUMNS} FROM errors WHERE (?1 IS NULL OR id = ?1) AND class != 'conflict' ORDER BY id"
            ))?;
            let rows = statement.query_map(params![id], error_entry)?;
            rows.collect::<Result<_, _>>()?
        };
        for e in &entries {
            insert_queue(
                &tx,
                &QueueItem {
                    seq: 0,
                    map: e.map.clone(),
                    company: e.company.clone(),
                    flow: e.flow,
                    key: e.key.clone(),
                    op: e.op,
                    payload: e.payload.clone(),
                    attempts: 0,
                    not_before: now,
                    first_seen: now,
                },
            )?;
            tx.execute("DELETE FROM errors WHERE id = ?1", params![e.id])?;
        }
        if let Some(id) = id {
            // A conflict entry is a record of a decision: retrying it only removes it.
            tx.execute(
                "DELETE FROM errors WHERE id = ?1 AND class = 'conflict'",
                params![id],
            )?;
        }
        tx.commit()?;
        Ok(entries.len())
    }

    fn lookup(&self, set: &str, column: &str, value: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .prepare_cached("SELECT id FROM lookup_cache WHERE target = ?1 AND column = ?2 AND value = ?3")?
            .query_row(params![set, column, value], |r| r.get(0))
            .optional()?)
    }

    fn put_lookup(&self, set: &str, column: &str, value: &str, id: &str) -> Result<(), StoreError> {
        self.lock()
            .prepare_cached(
                "INSERT INTO lookup_cache (target, column, value, id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (target, column, value) DO UPDATE SET id = excluded.id",
            )?
            .execute(params![set, column, value, id])?;
        Ok(())
    }

    fn counts(&self, map: &str) -> Result<Counts, StoreError> {
        let connection = self.lock();
        let (queued, oldest): (i64, Option<i64>) = connection.query_row(
            "SELECT COUNT(*), MIN(first_seen) FROM queue WHERE map = ?1",
            params![map],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let errors: i64 =
            connection.query_row("SELECT COUNT(*) FROM errors WHERE map = ?1", params![map], |r| {
                r.get(0)
            })?;
        let links: i64 =
            connection.query_row("SELECT COUNT(*) FROM links WHERE map = ?1", params![map], |r| {
                r.get(0)
            })?;
        Ok(Counts {
            queued: queued as u64,
            errors: errors as u64,
            oldest_queued: oldest,
            links: links as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, payload: &str) -> QueueItem {
        QueueItem {
            seq: 0,
            map: "m".into(),
            company: "usmf".into(),
            flow: Flow::FoToDv,
            key: key.into(),
            op: Op::Upsert,
            payload: payload.into(),
            attempts: 0,
            not_before: 0,
            first_seen: 1,
        }
    }

    #[test]
    fn queue_link_and_checkpoint_move_together() {
        let store = SqliteStore::in_memory().unwrap();
        store
            .enqueue(
                &[item("a", "{}"), item("b", "{}"), item("a", "{\"v\":2}")],
                Some(("m", Some("delta-1"))),
            )
            .unwrap();
        assert_eq!(store.delta_link("m").unwrap().as_deref(), Some("delta-1"));
        let ready = store.ready(10, 100).unwrap();
        assert_eq!(ready.len(), 3);
        let last_a = ready
            .iter()
            .filter(|i| i.key == "a")
            .map(|i| i.seq)
            .max()
            .unwrap();
        store
            .commit(Commit {
                links: vec![Link {
                    map: "m".into(),
                    company: "usmf".into(),
                    key: "a".into(),
                    dv_id: Some("id-a".into()),
                    ..Link::default()
                }],
                done: vec![("m".into(), "usmf".into(), Flow::FoToDv, "a".into(), last_a)],
                checkpoint: Some(Checkpoint {
                    map: "m".into(),
                    company: "usmf".into(),
                    last_key: Some("a".into()),
                    count: 1,
                    done: false,
                }),
                ..Commit::default()
            })
            .unwrap();
        let ready = store.ready(10, 100).unwrap();
        assert_eq!(ready.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(store.links("m", "usmf", &["a", "b"]).unwrap().len(), 1);
        assert_eq!(
            store.checkpoint("m", "usmf").unwrap().last_key.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn errors_are_logged_and_retried_into_the_queue() {
        let store = SqliteStore::in_memory().unwrap();
        let entry = ErrorEntry {
            id: 0,
            map: "m".into(),
            company: "usmf".into(),
            key: "k".into(),
            flow: Flow::DvToFo,
            class: ErrorClass::Application,
            reason: "too long".into(),
            payload: "{}".into(),
            op: Op::Upsert,
            attempts: 1,
            first_seen: 5,
            last_seen: 6,
        };
        store
            .commit(Commit {
                errors: vec![entry.clone()],
                ..Commit::default()
            })
            .unwrap();
        let logged = store.errors(Some("m")).unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].reason, "too long");
        assert_eq!(store.error(logged[0].id).unwrap().unwrap().key, "k");
        assert_eq!(store.retry_errors(None, 7).unwrap(), 1);
        assert!(store.errors(None).unwrap().is_empty());
        let ready = store.ready(7, 10).unwrap();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].flow, Flow::DvToFo);
    }

    #[test]
    fn a_state_file_reopens_and_refuses_a_newer_schema() {
        let dir = std::env::temp_dir().join(format!("dualsync-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        let _ = std::fs::remove_file(&path);
        {
            let store = SqliteStore::open(&path, Durability::Full).unwrap();
            store.set_paused("m", true, Some("by hand")).unwrap();
        }
        let store = SqliteStore::open(&path, Durability::Full).unwrap();
        let state = store.map_state("m").unwrap();
        assert!(state.paused);
        assert_eq!(state.reason.as_deref(), Some("by hand"));
        drop(store);
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(connection);
        let err = SqliteStore::open(&path, Durability::Full).unwrap_err();
        assert!(err.to_string().contains("newer dualsync"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
