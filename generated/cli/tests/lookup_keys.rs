//! A map whose integration key goes through lookups (Unit conversions: F&O `FromUnitSymbol` /
//! `ToUnitSymbol` are Dataverse lookups `msdyn_fromunit` / `msdyn_tounit` to `uoms` by
//! `msdyn_symbol`), both ways against the emulator: F&O -> Dataverse upserts by the lookup alternate
//! key (once, however often it runs), Dataverse -> F&O reads each lookup's target key back, matches
//! the existing F&O record by it, and creates new ones with the target keys.

mod common;

use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Engine, EngineConfig, MapSetup, SqliteStore};
use dualsync_cli::registry;
use serde_json::json;

const MAP: &str = "UnitOfMeasureConversionsToMsdynUnitofmeasureconversions";
const KG: &str = "00000000-0000-4000-8000-0000000000a1";
const G: &str = "00000000-0000-4000-8000-0000000000a2";
const T: &str = "00000000-0000-4000-8000-0000000000a3";

/// Sends a write and says what the service answered when it is not a success.
async fn send_ok(request: reqwest::RequestBuilder) {
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_through_lookups_syncs_both_ways_without_duplicates() {
    let info = registry::all()
        .into_iter()
        .find(|m| m.name == MAP)
        .expect("the unit conversions map is generated");
    let uom = |id: &str, symbol: &str| json!({"uomid": id, "name": symbol, "msdyn_symbol": symbol});
    let conversion = |from: &str, to: &str, factor: i64| {
        json!({
            "FromUnitSymbol": from, "ToUnitSymbol": to, "Factor": factor, "Numerator": factor,
            "Denominator": 1, "InnerOffset": 0, "OuterOffset": 0, "Rounding": "Nearest",
        })
    };
    let seed = json!({
        "dataverse": {"uoms": [uom(KG, "kg"), uom(G, "g"), uom(T, "t")]},
        // Two records share the first key column (`kg`): paging one record at a time must not skip one.
        "fo": {"UnitOfMeasureConversions": [
            conversion("kg", "g", 1000), conversion("t", "kg", 1000), conversion("kg", "t", 1),
        ]},
    });
    let running = common::serve_seeded(&seed).await;
    let services = common::clients(&running);
    let engine = Engine::new(
        services,
        Arc::new(SqliteStore::in_memory().unwrap()),
        vec![MapSetup::new(Arc::clone(&info.runner), &[])],
        EngineConfig {
            page_size: 1,
            poll_interval: Duration::from_millis(0),
            tick: Duration::from_millis(5),
            lookup_timeout: Duration::from_millis(0),
            ..EngineConfig::default()
        },
    );

    // F&O -> Dataverse, paged one record at a time by the composite key.
    engine.initial_sync(MAP, None).await.unwrap();
    engine.drain().await.unwrap();
    let errors = engine.store().errors(Some(MAP)).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let rows = running
        .emulator
        .rows("dataverse", "msdyn_unitofmeasureconversions");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let kg_g = rows
        .iter()
        .find(|r| r["_msdyn_fromunit_value"] == KG && r["_msdyn_tounit_value"] == G)
        .expect("kg -> g is bound to both units");
    assert_eq!(kg_g["msdyn_factor"].as_f64(), Some(1000.0), "{kg_g:#?}");

    // The same again (a full compare from F&O): the alternate key finds the records, no duplicate.
    engine.full_compare(MAP, dualsync::map::Side::Fo).await.unwrap();
    engine.drain().await.unwrap();
    assert_eq!(
        running
            .emulator
            .rows("dataverse", "msdyn_unitofmeasureconversions")
            .len(),
        3
    );

    // Dataverse -> F&O: a change to an existing record finds its F&O record through the units'
    // symbols; a new record is created in F&O with them.
    let http = reqwest::Client::new();
    let id = kg_g["msdyn_unitofmeasureconversionid"].as_str().unwrap();
    let root = running.dataverse_root();
    send_ok(
        http.patch(format!("{root}msdyn_unitofmeasureconversions({id})"))
            .json(&json!({"msdyn_factor": 1001, "msdyn_numerator": 1001})),
    )
    .await;
    send_ok(
        http.post(format!("{root}msdyn_unitofmeasureconversions"))
            .json(&json!({
                "msdyn_fromunit@odata.bind": format!("/uoms({G})"),
                "msdyn_tounit@odata.bind": format!("/uoms({T})"),
                "msdyn_factor": 0.000001, "msdyn_numerator": 1, "msdyn_denominator": 1000000,
                "msdyn_inneroffset": 0, "msdyn_outeroffset": 0,
            })),
    )
    .await;
    engine.poll_dataverse(MAP).await.unwrap();
    engine.drain().await.unwrap();
    let errors = engine.store().errors(Some(MAP)).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    let fo_rows = running.emulator.rows("fo", "UnitOfMeasureConversions");
    assert_eq!(fo_rows.len(), 4, "{fo_rows:#?}");
    let updated = fo_rows
        .iter()
        .find(|r| r["FromUnitSymbol"] == "kg" && r["ToUnitSymbol"] == "g")
        .unwrap();
    assert_eq!(updated["Factor"].as_f64(), Some(1001.0), "{updated:#?}");
    let created = fo_rows
        .iter()
        .find(|r| r["FromUnitSymbol"] == "g" && r["ToUnitSymbol"] == "t")
        .expect("the record created in Dataverse arrives in F&O with the units' symbols");
    assert_eq!(created["Denominator"].as_f64(), Some(1_000_000.0), "{created:#?}");
}
