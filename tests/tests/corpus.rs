//! Every document of the metadata corpus reads and resolves (or, for OData v2/v3, is refused with a
//! clear error), and its element counts equal an independent count made with Python's ElementTree
//! (`corpus/count.py` -> `corpus/expected-counts.json`).

use std::collections::BTreeMap;

use dualsync_codegen::ErrorKind;
use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::model::{Model, OptionSetKind, Permissions, Primitive, TypeKind};
use dualsync_tests::{corpus_dir, corpus_documents};
use serde_json::Value;

fn load(relative: &str) -> Model {
    let bytes = std::fs::read(corpus_dir().join(relative)).unwrap();
    let document = csdl::parse_bytes(&bytes).unwrap_or_else(|e| panic!("{relative}: {e}"));
    Model::resolve(vec![document]).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn every_document_reads_and_counts_match_elementtree() {
    let expected: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus_dir().join("expected-counts.json")).unwrap())
            .unwrap();
    let documents = corpus_documents();
    assert_eq!(
        documents,
        expected.keys().cloned().collect::<Vec<_>>(),
        "expected-counts.json is stale: run python3 tests/corpus/count.py > tests/corpus/expected-counts.json"
    );
    assert!(documents.len() >= 40);
    for relative in documents {
        let want = &expected[&relative];
        let bytes = std::fs::read(corpus_dir().join(&relative)).unwrap();
        if want.get("error").is_some() {
            let e = csdl::parse_bytes(&bytes).expect_err(&relative);
            assert!(
                matches!(*e.kind, ErrorKind::UnsupportedVersion { .. }),
                "{relative}: {e}"
            );
            continue;
        }
        let model = load(&relative);
        let got: serde_json::Map<String, serde_json::Value> = model
            .counts()
            .fields()
            .into_iter()
            .map(|(name, count)| (name.to_string(), serde_json::Value::from(count)))
            .collect();
        for (key, value) in want.as_object().unwrap() {
            assert_eq!(&got[key], value, "{relative}: {key}");
        }
    }
}

#[test]
fn dataverse_lookups_alternate_keys_and_read_only_columns() {
    let model = load("dataverse/dataverse-dualwrite.xml");
    let account = &model.entity_types["Microsoft.Dynamics.CRM.account"];
    assert_eq!(account.key[0].name, "accountid");
    assert_eq!(
        account.base_type.as_deref(),
        Some("Microsoft.Dynamics.CRM.crmbaseentity")
    );
    // The polymorphic parentcustomerid lookup of contact: one column, two navigation properties.
    let contact = &model.entity_types["Microsoft.Dynamics.CRM.contact"];
    let parent = contact
        .lookups
        .iter()
        .find(|l| l.column == "_parentcustomerid_value")
        .unwrap();
    assert_eq!(parent.logical_name, "parentcustomerid");
    let mut targets: Vec<(&str, Option<&str>)> = parent
        .targets
        .iter()
        .map(|t| (t.navigation.as_str(), t.entity_set.as_deref()))
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            ("parentcustomerid_account", Some("accounts")),
            ("parentcustomerid_contact", Some("contacts"))
        ]
    );
    // The lookup column is read-only: it is written through `parentcustomerid_account@odata.bind`.
    let column = model
        .all_properties(contact)
        .into_iter()
        .find(|p| p.name == "_parentcustomerid_value")
        .unwrap();
    assert!(column.read_only);
    // Dual-write integration keys are alternate keys.
    let with_alternate_keys = model
        .entity_types
        .values()
        .filter(|e| !e.alternate_keys.is_empty())
        .count();
    assert!(with_alternate_keys >= 40, "{with_alternate_keys}");
    let company = &model.entity_types["Microsoft.Dynamics.CRM.msdyn_customergroup"];
    let parts: Vec<&str> = company.alternate_keys[0]
        .parts
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert!(parts.contains(&"_msdyn_company_value"), "{parts:?}");
    // Decimals keep Scale="Variable" and go through no float.
    let revenue = account.properties.iter().find(|p| p.name == "revenue").unwrap();
    assert_eq!(revenue.type_ref.kind, TypeKind::Primitive(Primitive::Decimal));
    assert_eq!(revenue.facets.scale, Some(csdl::syntax::Scale::Variable));
}

#[test]
fn crm_schema_annotations_are_kept() {
    let model = load("dataverse/crm_schema.xml");
    let account = &model.entity_types["Microsoft.Dynamics.CRM.account"];
    assert!(
        account
            .annotations
            .description()
            .unwrap()
            .starts_with("Ein Geschäft")
    );
    let created = model
        .all_properties(account)
        .into_iter()
        .find(|p| p.name == "createdon")
        .unwrap();
    assert_eq!(created.annotations.permissions(), Some(Permissions::Read));
    assert!(created.read_only);
    let sets = &model.containers["Microsoft.Dynamics.CRM.System"].entity_sets;
    assert!(sets["accounts"].annotations.change_tracking().is_some());
    // The real quirk: `ownerid` bindings point at an entity set `owners` the document never declares.
    assert!(model.warnings.iter().any(|w| w.message.contains("`owners`")));
    assert!(model.entity_types.values().filter(|e| e.is_abstract).count() >= 6);
}

#[test]
fn fo_company_specific_entities_and_enums() {
    let model = load("fo/fo-dualwrite-core.xml");
    let customer = &model.entity_types["Microsoft.Dynamics.DataEntities.CustomerV3"];
    assert!(customer.company_specific);
    let key: Vec<&str> = customer.key.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(key, ["dataAreaId", "CustomerAccount"]);
    assert_eq!(customer.entity_sets, ["CustomersV3"]);
    assert_eq!(customer.properties.len(), 305);
    let name = customer
        .properties
        .iter()
        .find(|p| p.name == "OrganizationName")
        .unwrap();
    assert!(name.annotations.label_id().is_some_and(|l| l.starts_with('@')));
    let no_yes = &model.enum_types["Microsoft.Dynamics.DataEntities.NoYes"];
    let members: Vec<(&str, i64)> = no_yes
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.value))
        .collect();
    assert_eq!(members, [("No", 0), ("Yes", 1)]);
    let currencies = &model.entity_types["Microsoft.Dynamics.DataEntities.Currency"];
    assert!(!currencies.company_specific);
    let company_specific = model.entity_types.values().filter(|e| e.company_specific).count();
    assert!(company_specific >= 20, "{company_specific}");
}

#[test]
fn option_sets_attach_to_tables() {
    let mut model = load("dataverse/crm_schema.xml");
    let dir = corpus_dir().join("dataverse-optionsets");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for (index, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let hint = name.split('.').next();
        let json = std::fs::read_to_string(path).unwrap();
        let tables = optionsets::parse_option_sets(&json, hint).unwrap_or_else(|e| panic!("{name}: {e}"));
        model.attach_option_sets(tables, index + 1);
    }
    let kind = model.option_set("account", "customertypecode").unwrap();
    assert_eq!(kind.kind, OptionSetKind::Picklist);
    assert!(!kind.is_global);
    assert!(
        kind.options
            .iter()
            .any(|o| o.value == 3 && o.labels.get(&1033).map(String::as_str) == Some("Customer"))
    );
    let state = model.option_set("account", "statecode").unwrap();
    assert_eq!(state.kind, OptionSetKind::State);
    assert_eq!(state.options[0].invariant_name.as_deref(), Some("Active"));
    let status = model.option_set("account", "statuscode").unwrap();
    assert!(status.options.iter().all(|o| o.state.is_some()));
    let boolean = model.option_set("contact", "donotemail").unwrap();
    assert_eq!(boolean.kind, OptionSetKind::Boolean);
    assert_eq!(
        boolean.options.iter().map(|o| o.value).collect::<Vec<_>>(),
        [0, 1]
    );
    assert!(model.option_sets["account"].columns.len() >= 40);
    // The option sets come from a v9 org, the metadata from v8.2: the difference is reported, not fatal.
    assert!(
        model
            .warnings
            .iter()
            .any(|w| w.message.contains("which the metadata does not have"))
    );
}

#[test]
fn entity_metadata_documents_give_option_sets_too() {
    let json = std::fs::read_to_string(corpus_dir().join("dataverse-optionsets/account.EntityMetadata.json"))
        .unwrap();
    let tables = optionsets::parse_option_sets(&json, None).unwrap();
    assert_eq!(tables.table, "account");
}
