//! Every generated table map (`dualsync_generated::for_each_map!`), with what the CLI shows of it.

use std::sync::Arc;

use dualsync::engine::{MapRunner, SyncMap};
use dualsync::entity::{Entity, FieldDef};
use dualsync::map::{ColumnMap, Direction, Side, TableMap};

/// A generated map: the engine's handle and the map's own description.
#[derive(Clone)]
pub struct MapInfo {
    pub runner: Arc<dyn SyncMap>,
    pub name: String,
    pub columns: &'static [ColumnMap],
    /// The F&O company column (`dataAreaId`) of a per-company map.
    pub company: Option<&'static str>,
    pub fo_filter: Option<&'static str>,
    pub dv_filter: Option<&'static str>,
    pub master: Side,
    pub fo_set: &'static str,
    pub dv_set: &'static str,
    pub fo_fields: &'static [FieldDef],
    pub dv_fields: &'static [FieldDef],
    pub fo_key: &'static [&'static str],
    pub dv_key: &'static [&'static str],
    /// The F&O entity's company column, when the entity is per company (even if the map is not).
    pub fo_entity_company: Option<&'static str>,
}

impl std::fmt::Debug for MapInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapInfo").field("name", &self.name).finish()
    }
}

impl MapInfo {
    /// The description of map `M`.
    pub fn of<M>() -> Self
    where
        M: TableMap + 'static,
        M::Fo: Entity + 'static,
        M::Dv: Entity + 'static,
    {
        let runner = MapRunner::<M>::new();
        let name = runner.spec().name.clone();
        MapInfo {
            runner: Arc::new(runner),
            name,
            columns: M::COLUMNS,
            company: M::COMPANY,
            fo_filter: M::FO_FILTER,
            dv_filter: M::DV_FILTER,
            master: M::MASTER,
            fo_set: <M::Fo as Entity>::SET,
            dv_set: <M::Dv as Entity>::SET,
            fo_fields: <M::Fo as Entity>::FIELDS,
            dv_fields: <M::Dv as Entity>::FIELDS,
            fo_key: <M::Fo as Entity>::KEY,
            dv_key: <M::Dv as Entity>::KEY,
            fo_entity_company: <M::Fo as Entity>::COMPANY,
        }
    }
}

macro_rules! infos {
    ($($map:path),* $(,)?) => {
        vec![ $( MapInfo::of::<$map>() ),* ]
    };
}

/// Every generated map, in the generator's order.
pub fn all() -> Vec<MapInfo> {
    dualsync_generated::for_each_map!(infos)
}

/// The map named `name` (case-insensitive).
pub fn find<'a>(maps: &'a [MapInfo], name: &str) -> Option<&'a MapInfo> {
    maps.iter().find(|m| m.name.eq_ignore_ascii_case(name))
}

/// Names close to `name`, for "did you mean".
pub fn similar(maps: &[MapInfo], name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = maps
        .iter()
        .map(|m| (distance(&lower, &m.name.to_lowercase()), m.name.as_str()))
        .collect();
    scored.sort();
    let mut out: Vec<String> = maps
        .iter()
        .filter(|m| {
            let n = m.name.to_lowercase();
            !lower.is_empty() && (n.contains(&lower) || lower.contains(&n))
        })
        .map(|m| m.name.clone())
        .collect();
    for (d, n) in scored {
        if d <= 3.max(lower.len() / 4) && !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out.truncate(3);
    out
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// The arrow dual-write's map view shows for a direction.
pub fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Both => "<->",
        Direction::FoToDv => "->",
        Direction::DvToFo => "<-",
    }
}

pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Both => "both",
        Direction::FoToDv => "fo_to_dv",
        Direction::DvToFo => "dv_to_fo",
    }
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Fo => "fo",
        Side::Dv => "dataverse",
    }
}
