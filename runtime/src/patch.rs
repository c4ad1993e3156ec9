//! Sparse patches: the only shape a request body takes. A column not in the patch is left alone,
//! which is not the same as setting it to null; read-only columns and values beyond a column's facets
//! are refused when set, and lookups are written as `nav@odata.bind`.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::column::Column;
use crate::edm::Guid;
use crate::json::{EdmJson, EntityJson, JsonError, Value, check_facets, json_string, write_json_string};
use crate::schema::{Entity, FieldDef};

/// One value of a [`Patch`]: set to a value (its OData JSON text), or set to null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchValue {
    Null,
    /// The JSON text of the value, exactly as it will be sent.
    Json(String),
}

/// The set columns of a patch, sorted by wire name: a sorted vector (a patch has tens of entries,
/// where it beats a tree: one allocation, no nodes).
#[derive(Default, Clone)]
struct Values(Vec<(Cow<'static, str>, PatchValue)>);

impl Values {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.as_ref().cmp(name))
    }

    fn insert(&mut self, name: Cow<'static, str>, value: PatchValue) {
        match self.position(&name) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => {
                if self.0.capacity() == 0 {
                    self.0.reserve(16);
                }
                self.0.insert(i, (name, value));
            }
        }
    }

    fn remove(&mut self, name: &str) {
        if let Ok(i) = self.position(name) {
            self.0.remove(i);
        }
    }

    fn get(&self, name: &str) -> Option<&PatchValue> {
        self.position(name).ok().map(|i| &self.0[i].1)
    }

    fn keys(&self) -> impl Iterator<Item = &Cow<'static, str>> {
        self.0.iter().map(|(k, _)| k)
    }

    fn iter(&self) -> impl Iterator<Item = (&Cow<'static, str>, &PatchValue)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A sparse update (or create) of entity `E`: columns not in the patch are left alone, which is not
/// the same as setting them to null.
pub struct Patch<E> {
    values: Values,
    marker: PhantomData<fn() -> E>,
}

impl<E> Default for Patch<E> {
    fn default() -> Self {
        Patch {
            values: Values::default(),
            marker: PhantomData,
        }
    }
}

impl<E> Clone for Patch<E> {
    fn clone(&self) -> Self {
        Patch {
            values: self.values.clone(),
            marker: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Patch<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.values.iter()).finish()
    }
}

impl<E> Patch<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `column` to the JSON text `json` (already in OData JSON form, not checked).
    pub fn set_json<T: ?Sized>(&mut self, column: Column<E, T>, json: String) -> &mut Self {
        self.values.insert(column.name.into(), PatchValue::Json(json));
        self
    }

    /// Sets `column` to null.
    pub fn set_null<T: ?Sized>(&mut self, column: Column<E, T>) -> &mut Self {
        self.values.insert(column.name.into(), PatchValue::Null);
        self
    }

    /// Removes `column` from the patch (it will not be sent).
    pub fn unset<T: ?Sized>(&mut self, column: Column<E, T>) -> &mut Self {
        self.values.remove(column.name);
        self
    }

    /// What the patch says about `column`: `None` = not set.
    pub fn get<T: ?Sized>(&self, column: Column<E, T>) -> Option<&PatchValue> {
        self.values.get(column.name)
    }

    /// What the patch says about a wire name (a column or a `nav@odata.bind`).
    pub fn get_name(&self, name: &str) -> Option<&PatchValue> {
        self.values.get(name)
    }

    /// The wire names the patch sets, in name order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(|k| k.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The request body: a JSON object with the set columns only, in name order.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (name, value)) in self.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(&mut out, name);
            out.push(':');
            match value {
                PatchValue::Null => out.push_str("null"),
                PatchValue::Json(text) => out.push_str(text),
            }
        }
        out.push('}');
        out
    }

    pub(crate) fn insert_null(&mut self, name: impl Into<Cow<'static, str>>) {
        self.values.insert(name.into(), PatchValue::Null);
    }

    pub(crate) fn insert_json(&mut self, name: impl Into<Cow<'static, str>>, json: String) {
        self.values.insert(name.into(), PatchValue::Json(json));
    }
}

fn no_such_column<E: Entity>(name: &str) -> JsonError {
    JsonError::Invalid {
        field: name.to_string(),
        message: format!("`{}` has no such column", E::TYPE_NAME),
    }
}

/// The field of `column`, by its index when it has one.
pub(crate) fn field_of<E: Entity, T: ?Sized>(column: Column<E, T>) -> Option<&'static FieldDef> {
    E::FIELDS
        .get(column.index)
        .filter(|f| f.name == column.name)
        .or_else(|| E::field(column.name))
}

impl<E: Entity> Patch<E> {
    fn writable<T: ?Sized>(column: Column<E, T>) -> Result<&'static FieldDef, JsonError> {
        let field = field_of(column).ok_or_else(|| no_such_column::<E>(column.name))?;
        if field.read_only || !field.is_writable() {
            return Err(JsonError::ReadOnly {
                field: column.name.to_string(),
            });
        }
        Ok(field)
    }

    /// Sets `column` to `value`, checked against the column: writable, and within its facets
    /// (a decimal beyond the column's precision or scale is an error, never rounded).
    pub fn set<T: EdmJson>(&mut self, column: Column<E, T>, value: &T) -> Result<&mut Self, JsonError> {
        let field = Self::writable(column)?;
        value.check_facets(field).map_err(|e| e.in_field(field.name))?;
        let mut json = String::new();
        value.write_json(&mut json);
        self.values.insert(column.name.into(), PatchValue::Json(json));
        Ok(self)
    }

    /// Points lookup `column` (a Dataverse `_x_value` column) at record `id` of `target_set`:
    /// `"nav@odata.bind": "/target_set(id)"`, choosing the navigation of a polymorphic lookup
    /// (customer → accounts or contacts, owner → systemusers or teams) by the set.
    pub fn bind(
        &mut self,
        column: Column<E, Guid>,
        target_set: &str,
        id: &Guid,
    ) -> Result<&mut Self, JsonError> {
        self.bind_key(column, target_set, &id.to_string())
    }

    /// Points lookup `column` at the record of `target_set` with key `key`, the text between the
    /// parentheses of its URL: an id, or an alternate key such as `isocurrencycode='EUR'` (already
    /// quoted and percent-encoded, e.g. `odata::Key::as_url_text`).
    pub fn bind_key(
        &mut self,
        column: Column<E, Guid>,
        target_set: &str,
        key: &str,
    ) -> Result<&mut Self, JsonError> {
        let field = field_of(column).ok_or_else(|| no_such_column::<E>(column.name))?;
        let target = field.lookup.iter().find(|l| l.set == target_set).ok_or_else(|| {
            let targets: Vec<&str> = field
                .lookup
                .iter()
                .map(|l| l.set)
                .filter(|s| !s.is_empty())
                .collect();
            JsonError::Invalid {
                field: column.name.to_string(),
                message: if targets.is_empty() {
                    "not a lookup column".to_string()
                } else {
                    format!("not a lookup to `{target_set}` (targets: {})", targets.join(", "))
                },
            }
        })?;
        if !field.is_writable() {
            return Err(JsonError::ReadOnly {
                field: column.name.to_string(),
            });
        }
        self.values.insert(
            target.bind.into(),
            PatchValue::Json(json_string(&format!("/{target_set}({key})"))),
        );
        Ok(self)
    }

    /// The patch without the columns that may be written on create only (`overriddencreatedon`,
    /// immutable F&O fields): what an update of an existing record sends.
    pub fn for_update(&self) -> Patch<E> {
        let mut out = Patch::new();
        for (name, value) in self.values.iter() {
            let field = match name.ends_with("@odata.bind") {
                true => E::FIELDS.iter().find(|f| f.lookup.iter().any(|l| l.bind == name)),
                false => E::field(name),
            };
            if field.is_none_or(|f| f.valid_for_update) {
                out.values.insert(name.clone(), value.clone());
            }
        }
        out
    }
}

impl<E: Entity + EntityJson> Patch<E> {
    /// The request that creates `record`: every column that may be written on create and is set
    /// (null columns are left out, so the service's defaults apply), values checked against their
    /// facets, and lookups with one target bound (`nav@odata.bind`). A set lookup with several
    /// targets (customer, owner) is an error: which table it points to is not in the struct, so bind
    /// it with [`Patch::bind`].
    pub fn from_entity(record: &E) -> Result<Patch<E>, JsonError> {
        let object = record.to_read_object();
        let mut patch = Patch::new();
        for field in E::FIELDS {
            let Some(value) = object.get(field.name).filter(|v| !v.is_null()) else {
                continue;
            };
            if field.is_lookup() {
                if !field.valid_for_create {
                    continue;
                }
                let targets: Vec<_> = field.lookup.iter().filter(|l| !l.set.is_empty()).collect();
                let [target] = targets.as_slice() else {
                    return Err(JsonError::Invalid {
                        field: field.name.to_string(),
                        message: "a lookup with several target tables: bind it with Patch::bind".into(),
                    });
                };
                let id = value.as_str().unwrap_or_default();
                patch.values.insert(
                    target.bind.into(),
                    PatchValue::Json(json_string(&format!("/{}({id})", target.set))),
                );
                continue;
            }
            if field.read_only || !field.valid_for_create {
                continue;
            }
            check_facets(field, value)?;
            patch.insert_json(field.name, json_text(value));
        }
        Ok(patch)
    }
}

fn json_text(value: &Value) -> String {
    value.to_string()
}
