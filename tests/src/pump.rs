//! The bare client pump the engine benchmark compares the engine with: the same reads
//! (`$select` of the mapped columns, keyset pages) and the same `$batch` upserts through the same
//! client and map, with no engine bookkeeping (no state store, links, fingerprints or queue).

use std::collections::HashMap;
use std::time::Instant;

use dualsync::engine::{Flow, MapRunner, SyncMap, WriteOp};
use dualsync::entity::Record;
use dualsync::map::TableMap;
use dualsync::odata::Request;
use serde_json::Value;

use crate::maps::CustomersV3ToAccounts;
use crate::sync::{COMPANIES, services};

/// The bare pump: same reads and batches through the same client and map, nothing else.
pub async fn pump(url: &str, page_size: usize, batch: usize) -> f64 {
    let services = services(url);
    let runner = MapRunner::<CustomersV3ToAccounts>::new();
    let spec = runner.spec().clone();
    let started = Instant::now();
    // Currencies first, as the engine does (two records).
    let currencies = services
        .fo
        .transport()
        .send(Request::get(
            services.fo.url("Currencies?$select=CurrencyCode,Name,Symbol"),
        ))
        .await
        .expect("the pump runs against a working emulator");
    let currencies: Value =
        serde_json::from_slice(&currencies.body).expect("the pump runs against a working emulator");
    let mut ids: HashMap<String, String> = HashMap::new();
    for c in currencies["value"]
        .as_array()
        .expect("the pump runs against a working emulator")
    {
        let code = c["CurrencyCode"]
            .as_str()
            .expect("the pump runs against a working emulator")
            .to_string();
        let body = serde_json::json!({"isocurrencycode": code, "currencyname": c["Name"], "currencysymbol": c["Symbol"], "exchangerate": 1});
        let answer = services
            .dataverse
            .transport()
            .send(
                Request::new(
                    reqwest::Method::PATCH,
                    services
                        .dataverse
                        .url(&format!("transactioncurrencies(isocurrencycode='{code}')")),
                )
                .json(body.to_string()),
            )
            .await
            .expect("the pump runs against a working emulator");
        let id = answer
            .header("OData-EntityId")
            .expect("the pump runs against a working emulator");
        ids.insert(
            format!("'{code}'"),
            id.rsplit_once('(')
                .expect("the pump runs against a working emulator")
                .1
                .trim_end_matches(')')
                .to_string(),
        );
    }
    let company = COMPANIES[0].1;
    let mut after: Option<String> = None;
    loop {
        let mut path = format!(
            "CustomersV3?$select={}&cross-company=true&$orderby=CustomerAccount&$top={page_size}&$filter=dataAreaId%20eq%20'usmf'",
            spec.fo_select.join(",")
        );
        if let Some(after) = &after {
            path.push_str(&format!("%20and%20CustomerAccount%20gt%20'{after}'"));
        }
        let page = services
            .fo
            .transport()
            .send(Request::get(services.fo.url(&path)))
            .await
            .expect("the pump runs against a working emulator");
        let page: Value =
            serde_json::from_slice(&page.body).expect("the pump runs against a working emulator");
        let rows = page["value"]
            .as_array()
            .expect("the pump runs against a working emulator")
            .clone();
        let full = rows.len() >= page_size;
        after = rows
            .last()
            .and_then(|r| r["CustomerAccount"].as_str())
            .map(str::to_string);
        let mut ops = Vec::new();
        for row in rows {
            let Value::Object(object) = row else { continue };
            let account = object["CustomerAccount"]
                .as_str()
                .expect("the pump runs against a working emulator")
                .to_string();
            let out = CustomersV3ToAccounts::fo_to_dv(&Record::from_object(object))
                .expect("the pump runs against a working emulator");
            let mut values: std::collections::BTreeMap<String, Option<String>> = out
                .patch
                .names()
                .map(|n| {
                    (
                        n.to_string(),
                        match out.patch.get_name(n) {
                            Some(dualsync::entity::PatchValue::Json(t)) => Some(t.clone()),
                            _ => None,
                        },
                    )
                })
                .collect();
            for lookup in &out.lookups {
                let id = if lookup.target_set == "cdm_companies" {
                    company.to_string()
                } else {
                    ids[&lookup.value].clone()
                };
                values.insert(
                    format!("{}@odata.bind", lookup.navigation),
                    Some(format!("\"/{}({id})\"", lookup.target_set)),
                );
            }
            ops.push(WriteOp::Upsert {
                key: format!("accountnumber='{account}',_msdyn_company_value={company}"),
                values,
            });
        }
        for chunk in ops.chunks(batch) {
            let results = runner
                .write(&services, Flow::FoToDv, chunk.to_vec())
                .await
                .expect("the pump runs against a working emulator");
            assert!(results.iter().all(|r| r.is_ok()));
        }
        if !full {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}
