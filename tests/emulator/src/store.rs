//! Records in memory: one table per entity set, rows by canonical key, indexes of the alternate keys,
//! tombstones of deleted rows for change tracking, and an undo journal so a failed change set is rolled
//! back whole.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::Table;

/// One record: its properties (only those ever set; absent means null) and the service-wide version
/// of its last write (its ETag).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub data: Map<String, Value>,
    pub version: u64,
}

/// A deleted row, kept for change tracking.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub version: u64,
    /// The record's id as change tracking reports it (the primary key value).
    pub id: String,
}

/// The rows of one entity set.
#[derive(Debug, Clone, Default)]
pub struct TableData {
    pub rows: BTreeMap<String, Row>,
    pub deleted: BTreeMap<String, Tombstone>,
    /// One index per alternate key: canonical alternate-key text -> primary key text.
    pub alternate: Vec<BTreeMap<String, String>>,
}

/// The canonical text of one key value (Guids in lower case, so `ABC` and `abc` are one key).
pub fn key_value_text(value: &Value) -> String {
    match value {
        Value::String(s) if crate::schema::is_guid(s) => s.to_ascii_lowercase(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The canonical key text of `columns` in `data`, `None` when a part is missing or null.
pub fn key_text(columns: &[String], data: &Map<String, Value>) -> Option<String> {
    let mut parts = Vec::with_capacity(columns.len());
    for column in columns {
        match data.get(column) {
            None | Some(Value::Null) => return None,
            Some(value) => parts.push(key_value_text(value)),
        }
    }
    Some(parts.join("\u{1f}"))
}

impl TableData {
    /// An empty table with one index per alternate key of `table`.
    pub fn new(table: &Table) -> Self {
        TableData {
            rows: BTreeMap::new(),
            deleted: BTreeMap::new(),
            alternate: vec![BTreeMap::new(); table.alternate_keys.len()],
        }
    }

    /// The primary key text of the row whose alternate key `index` has `text`.
    pub fn by_alternate(&self, index: usize, text: &str) -> Option<&String> {
        self.alternate.get(index).and_then(|i| i.get(text))
    }

    fn unindex(&mut self, table: &Table, row: &Row) {
        for (i, columns) in table.alternate_keys.iter().enumerate() {
            if let (Some(text), Some(index)) = (key_text(columns, &row.data), self.alternate.get_mut(i)) {
                index.remove(&text);
            }
        }
    }

    fn index(&mut self, table: &Table, key: &str, row: &Row) {
        for (i, columns) in table.alternate_keys.iter().enumerate() {
            if let (Some(text), Some(index)) = (key_text(columns, &row.data), self.alternate.get_mut(i)) {
                index.insert(text, key.to_string());
            }
        }
    }

    /// The key of another row that already has one of `data`'s alternate keys.
    pub fn alternate_conflict(
        &self,
        table: &Table,
        key: &str,
        data: &Map<String, Value>,
    ) -> Option<Vec<String>> {
        for (i, columns) in table.alternate_keys.iter().enumerate() {
            if let Some(text) = key_text(columns, data)
                && let Some(owner) = self.by_alternate(i, &text)
                && owner != key
            {
                return Some(columns.clone());
            }
        }
        None
    }

    /// Stores `row` under `key`, returning what was there; keeps the indexes and tombstones right.
    pub fn put(&mut self, table: &Table, key: String, row: Row) -> Option<Row> {
        let previous = self.rows.remove(&key);
        if let Some(previous) = &previous {
            self.unindex(table, previous);
        }
        self.index(table, &key, &row);
        self.deleted.remove(&key);
        self.rows.insert(key, row);
        previous
    }

    /// Removes the row under `key`, leaving a tombstone at `version`.
    pub fn remove(&mut self, table: &Table, key: &str, version: u64, id: String) -> Option<Row> {
        let previous = self.rows.remove(key)?;
        self.unindex(table, &previous);
        self.deleted.insert(key.to_string(), Tombstone { version, id });
        Some(previous)
    }
}

/// What a write changed, to undo it.
#[derive(Debug)]
pub struct Undo {
    pub set: String,
    pub key: String,
    pub row: Option<Row>,
    pub tombstone: Option<Tombstone>,
}

/// The data of one service.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub tables: BTreeMap<String, TableData>,
    /// The service-wide write counter (row versions, ETags, change-tracking tokens).
    pub version: u64,
}

impl Store {
    /// Restores what a journal recorded, newest first.
    pub fn rollback(&mut self, tables: &BTreeMap<String, std::sync::Arc<Table>>, journal: Vec<Undo>) {
        for undo in journal.into_iter().rev() {
            let (Some(table), Some(data)) = (tables.get(&undo.set), self.tables.get_mut(&undo.set)) else {
                continue;
            };
            match undo.row {
                Some(row) => {
                    data.put(table, undo.key.clone(), row);
                }
                None => {
                    if let Some(row) = data.rows.remove(&undo.key) {
                        data.unindex(table, &row);
                    }
                }
            }
            match undo.tombstone {
                Some(tombstone) => {
                    data.deleted.insert(undo.key, tombstone);
                }
                None => {
                    data.deleted.remove(&undo.key);
                }
            }
        }
    }
}
