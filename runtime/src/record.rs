//! Records as the services send them: the columns that were read (all, or those in `$select`) and
//! the ETag. A column that was not selected is absent, which is not the same as null; a table map
//! reads a `Record` directly and never writes an absent column to the other side.

use std::marker::PhantomData;

use crate::column::Column;
use crate::json::{EdmJson, EntityJson, JsonError, Map, Value};

/// A record as the service sent it: the columns it holds (all, or those in `$select`) and its ETag.
/// A column that was not selected is absent, which is not the same as null.
pub struct Record<E> {
    object: Map<String, Value>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Record<E> {
    fn clone(&self) -> Self {
        Record {
            object: self.object.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Record<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Record").field(&self.object).finish()
    }
}

impl<E> Record<E> {
    /// A record from a JSON object of the service.
    pub fn from_object(object: Map<String, Value>) -> Self {
        Record {
            object,
            _entity: PhantomData,
        }
    }

    /// The `@odata.etag`, if the service sent one.
    pub fn etag(&self) -> Option<&str> {
        self.object.get("@odata.etag").and_then(Value::as_str)
    }

    /// The JSON object as received (annotations included).
    pub fn json(&self) -> &Map<String, Value> {
        &self.object
    }

    /// The JSON object, taken out of the record.
    pub fn into_object(self) -> Map<String, Value> {
        self.object
    }

    /// Whether the record holds `column` (it was selected), null or not.
    pub fn has<T: ?Sized>(&self, column: Column<E, T>) -> bool {
        self.object.contains_key(column.name())
    }

    /// The value of `column`: `Ok(None)` when null, an error when absent (not selected) or not a `T`.
    pub fn get<T: EdmJson>(&self, column: Column<E, T>) -> Result<Option<T>, JsonError> {
        match self.object.get(column.name()) {
            None => Err(JsonError::Missing {
                field: column.name().to_string(),
            }),
            Some(Value::Null) => Ok(None),
            Some(value) => T::from_json(value)
                .map(Some)
                .map_err(|e| e.in_field(column.name())),
        }
    }
}

impl<E: EntityJson> Record<E> {
    /// The record as the generated struct. Every non-nullable column must be present: a record read
    /// with `$select` is used as it is (`get`, or a table map, which skips the columns it lacks).
    pub fn entity(&self) -> Result<E, JsonError> {
        E::from_json_object(&self.object)
    }
}
