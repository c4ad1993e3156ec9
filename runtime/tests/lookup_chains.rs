//! Lookups through further tables, and several column pairs finding one record together, on
//! hand-written entities shaped like CDS Exchange Rates: an exchange rate's pair is found by its
//! rate type's name and both currencies' ISO codes. F&O -> Dataverse asks the engine for one record
//! by three parts, each two tables deep; Dataverse -> F&O reads each part from the chain the engine
//! expanded (`pair: {type: {name: ..}}`); an empty lookup on the way is an empty key, never a guess.

use dualsync::entity::{PatchValue, Record};
use dualsync::json::Value;
use dualsync::map::{Direction, LookupHop, MapError, TableMap};

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.DataEntities.ExchangeRateCDSEntity",
    set = "ExchangeRatesCDSEntity",
    key("RateType", "FromCurrency", "ToCurrency", "ValidFrom")
)]
pub struct FoRate {
    #[field(name = "RateType", edm = "Edm.String", not_null, key)]
    pub rate_type: String,
    #[field(name = "FromCurrency", edm = "Edm.String", not_null, key)]
    pub from_currency: String,
    #[field(name = "ToCurrency", edm = "Edm.String", not_null, key)]
    pub to_currency: String,
    #[field(name = "ValidFrom", edm = "Edm.String", not_null, key)]
    pub valid_from: String,
    #[field(name = "Note", edm = "Edm.String")]
    pub note: Option<String>,
    #[field(name = "Category", edm = "Edm.String")]
    pub category: Option<String>,
    #[field(name = "Hierarchy", edm = "Edm.String")]
    pub hierarchy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(type_name = "Microsoft.Dynamics.CRM.rate", set = "rates", key("rateid"))]
pub struct DvRate {
    #[field(name = "rateid", edm = "Edm.Guid", key)]
    pub rateid: Option<dualsync::edm::Guid>,
    #[field(
        name = "_pair_value",
        edm = "Edm.Guid",
        lookup(nav = "pair", target = "Microsoft.Dynamics.CRM.pair", set = "pairs")
    )]
    pub pair_value: Option<dualsync::edm::Guid>,
    #[field(name = "validfrom", edm = "Edm.String")]
    pub validfrom: Option<String>,
    #[field(name = "note", edm = "Edm.String")]
    pub note: Option<String>,
    #[field(
        name = "_category_value",
        edm = "Edm.Guid",
        lookup(
            nav = "category",
            target = "Microsoft.Dynamics.CRM.category",
            set = "categories"
        )
    )]
    pub category_value: Option<dualsync::edm::Guid>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(type_name = "Microsoft.Dynamics.CRM.pair", set = "pairs", key("pairid"))]
pub struct Pair {
    #[field(name = "pairid", edm = "Edm.Guid", key)]
    pub pairid: Option<dualsync::edm::Guid>,
    #[field(
        name = "_type_value",
        edm = "Edm.Guid",
        lookup(nav = "type", target = "Microsoft.Dynamics.CRM.ratetype", set = "ratetypes")
    )]
    pub type_value: Option<dualsync::edm::Guid>,
    #[field(
        name = "_from_value",
        edm = "Edm.Guid",
        lookup(nav = "from", target = "Microsoft.Dynamics.CRM.currency", set = "currencies")
    )]
    pub from_value: Option<dualsync::edm::Guid>,
    #[field(
        name = "_to_value",
        edm = "Edm.Guid",
        lookup(nav = "to", target = "Microsoft.Dynamics.CRM.currency", set = "currencies")
    )]
    pub to_value: Option<dualsync::edm::Guid>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.ratetype",
    set = "ratetypes",
    key("ratetypeid")
)]
pub struct RateType {
    #[field(name = "ratetypeid", edm = "Edm.Guid", key)]
    pub ratetypeid: Option<dualsync::edm::Guid>,
    #[field(name = "name", edm = "Edm.String")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.currency",
    set = "currencies",
    key("currencyid")
)]
pub struct Currency {
    #[field(name = "currencyid", edm = "Edm.Guid", key)]
    pub currencyid: Option<dualsync::edm::Guid>,
    #[field(name = "iso", edm = "Edm.String")]
    pub iso: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.category",
    set = "categories",
    key("categoryid")
)]
pub struct Category {
    #[field(name = "categoryid", edm = "Edm.Guid", key)]
    pub categoryid: Option<dualsync::edm::Guid>,
    #[field(name = "name", edm = "Edm.String")]
    pub name: Option<String>,
    #[field(
        name = "_hierarchy_value",
        edm = "Edm.Guid",
        lookup(
            nav = "hierarchy",
            target = "Microsoft.Dynamics.CRM.hierarchy",
            set = "hierarchies"
        )
    )]
    pub hierarchy_value: Option<dualsync::edm::Guid>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.hierarchy",
    set = "hierarchies",
    key("hierarchyid")
)]
pub struct Hierarchy {
    #[field(name = "hierarchyid", edm = "Edm.Guid", key)]
    pub hierarchyid: Option<dualsync::edm::Guid>,
    #[field(name = "name", edm = "Edm.String")]
    pub name: Option<String>,
}

#[derive(dualsync::TableMap)]
#[table_map(fo = FoRate, dv = DvRate)]
pub struct Rates {
    #[map(key, both, fo = rate_type, dv = pair_value, lookup(Pair::type_value, RateType::name))]
    rate_type: (),
    #[map(key, both, fo = from_currency, dv = pair_value, lookup(Pair::from_value, Currency::iso))]
    from: (),
    #[map(key, both, fo = to_currency, dv = pair_value, lookup(Pair::to_value, Currency::iso))]
    to: (),
    #[map(key, both, fo = valid_from, dv = validfrom)]
    valid_from: (),
    #[map(fo_to_dv, fo = note, dv = note)]
    note: (),
    // A category is found by its name and its hierarchy's name (one table further on).
    #[map(both, fo = category, dv = category_value, lookup(Category::name))]
    category: (),
    #[map(fo_to_dv, fo = hierarchy, dv = category_value, lookup(Category::hierarchy_value, Hierarchy::name))]
    hierarchy: (),
}

fn fo_record(json: Value) -> Record<FoRate> {
    match json {
        Value::Object(object) => Record::from_object(object),
        _ => unreachable!(),
    }
}

fn dv_record(json: Value) -> Record<DvRate> {
    match json {
        Value::Object(object) => Record::from_object(object),
        _ => unreachable!(),
    }
}

fn rate() -> Value {
    serde_json::json!({
        "RateType": "Default", "FromCurrency": "EUR", "ToCurrency": "USD",
        "ValidFrom": "2026-01-01", "Note": "n", "Category": "Tools", "Hierarchy": "Retail",
    })
}

#[test]
fn the_map_says_each_hop() {
    let pair_type = Rates::COLUMNS[0];
    assert_eq!(
        (
            pair_type.dv,
            pair_type.lookup,
            pair_type.navigation,
            pair_type.lookup_set
        ),
        ("_pair_value", "_type_value", "pair", "pairs")
    );
    assert_eq!(
        pair_type.via,
        &[LookupHop {
            navigation: "type",
            set: "ratetypes",
            id: "ratetypeid",
            key: "name"
        }]
    );
    assert_eq!(pair_type.lookup_path(), "type.name");
    assert_eq!(Rates::COLUMNS[5].lookup_path(), "name");
    assert_eq!(Rates::COLUMNS[6].lookup_path(), "hierarchy.name");
    assert_eq!(Rates::COLUMNS[6].direction, Direction::FoToDv);
}

#[test]
fn fo_to_dv_asks_for_one_record_by_every_part() {
    let out = Rates::fo_to_dv(&fo_record(rate())).unwrap();
    let asked: Vec<(&str, &str, &str, String, String)> = out
        .lookups
        .iter()
        .map(|l| {
            (
                l.column,
                l.navigation,
                l.target_set,
                l.key_path(),
                l.value.clone(),
            )
        })
        .collect();
    assert_eq!(
        asked,
        vec![
            (
                "_pair_value",
                "pair",
                "pairs",
                "type.name".into(),
                "'Default'".into()
            ),
            ("_pair_value", "pair", "pairs", "from.iso".into(), "'EUR'".into()),
            ("_pair_value", "pair", "pairs", "to.iso".into(), "'USD'".into()),
            (
                "_category_value",
                "category",
                "categories",
                "name".into(),
                "'Tools'".into()
            ),
            (
                "_category_value",
                "category",
                "categories",
                "hierarchy.name".into(),
                "'Retail'".into()
            ),
        ]
    );
    // The lookups are bound by the engine, not written as values.
    assert!(out.patch.get_name("_pair_value").is_none());
    assert!(matches!(out.patch.get_name("note"), Some(PatchValue::Json(t)) if t == "\"n\""));
}

#[test]
fn an_empty_part_empties_the_lookup() {
    let mut json = rate();
    json["Hierarchy"] = Value::Null;
    let out = Rates::fo_to_dv(&fo_record(json)).unwrap();
    // The category is bound to nothing: a name alone is not its key. (The engine drops the
    // name's request when the lookup is bound to null.)
    assert!(matches!(
        out.patch.get_name("category@odata.bind"),
        Some(PatchValue::Null)
    ));
    // A key part never is empty.
    let mut json = rate();
    json["FromCurrency"] = Value::Null;
    assert!(matches!(
        Rates::fo_to_dv(&fo_record(json)),
        Err(MapError::EmptyKey { .. })
    ));
}

#[test]
fn dv_to_fo_reads_each_part_from_the_expanded_chain() {
    let id = "00000000-0000-4000-8000-000000000001";
    let record = serde_json::json!({
        "rateid": id, "_pair_value": id, "validfrom": "2026-01-01", "note": "ignored",
        "pair": {"type": {"name": "Default"}, "from": {"iso": "EUR"}, "to": {"iso": "USD"}},
        "_category_value": id, "category": {"name": "Tools"},
    });
    let out = Rates::dv_to_fo(&dv_record(record)).unwrap();
    let text = |name: &str| match out.patch.get_name(name) {
        Some(PatchValue::Json(t)) => t.clone(),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        [
            text("RateType"),
            text("FromCurrency"),
            text("ToCurrency"),
            text("ValidFrom"),
            text("Category")
        ],
        ["\"Default\"", "\"EUR\"", "\"USD\"", "\"2026-01-01\"", "\"Tools\""]
    );
    // fo_to_dv columns are not written back.
    assert!(out.patch.get_name("Note").is_none());
    assert!(out.patch.get_name("Hierarchy").is_none());
}

#[test]
fn dv_to_fo_without_the_chain_is_an_error_not_a_guess() {
    let id = "00000000-0000-4000-8000-000000000001";
    // An empty lookup on the way: the key part is empty.
    let record = serde_json::json!({
        "_pair_value": id, "validfrom": "2026-01-01",
        "pair": {"type": null, "from": {"iso": "EUR"}, "to": {"iso": "USD"}},
    });
    assert!(matches!(
        Rates::dv_to_fo(&dv_record(record)),
        Err(MapError::EmptyKey { .. })
    ));
    // Not expanded (the target was not found): the key part was not read.
    let record = serde_json::json!({"_pair_value": id, "validfrom": "2026-01-01"});
    assert!(matches!(
        Rates::dv_to_fo(&dv_record(record)),
        Err(MapError::LookupNotResolved {
            column: "_pair_value",
            navigation: "pair"
        })
    ));
}
