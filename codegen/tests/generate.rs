//! The generator: snapshots of generated files for small fixtures, determinism, write/check,
//! selection and collision errors.

mod common;

use std::collections::BTreeMap;

use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::emit::{self, GenerateError, Options, Stale};
use dualsync_codegen::model::Model;

fn model(files: &[&str]) -> Model {
    let documents = files
        .iter()
        .map(|f| csdl::parse_bytes(&common::read(f)).unwrap())
        .collect();
    Model::resolve(documents).unwrap()
}

fn joined(files: &[emit::GeneratedFile]) -> String {
    files
        .iter()
        .map(|f| format!("==== {} ====\n{}", f.path.display(), f.contents))
        .collect()
}

fn generate(model: &Model, include: &[&str]) -> Vec<emit::GeneratedFile> {
    let options = Options {
        include: include.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    };
    emit::generate(model, &options).unwrap()
}

#[test]
fn trippin() {
    insta::assert_snapshot!(joined(&generate(&model(&["odata/TripPin.xml"]), &[])));
}

#[test]
fn northwind_with_alternate_keys() {
    let files = generate(
        &model(&["odata/Northwind4WithAlternateKeys.xml"]),
        &["Categories", "Employees", "Order_Details"],
    );
    insta::assert_snapshot!(joined(&files));
}

#[test]
fn oasis_examples() {
    insta::assert_snapshot!(joined(&generate(&model(&["odata/oasis-example.xml"]), &[])));
    insta::assert_snapshot!(joined(&generate(&model(&["odata/oasis-key-aliases.xml"]), &[])));
    insta::assert_snapshot!(joined(&generate(
        &model(&["odata/odatanet-DefaultService.xml"]),
        &["Accounts", "Customers"]
    )));
}

#[test]
fn dataverse_slice_with_option_sets_and_lookups() {
    let mut model = model(&["dataverse/dataverse-dualwrite.xml"]);
    let json = String::from_utf8(common::read(
        "dataverse-optionsets/contact.StateOptionSetAttribute.json",
    ))
    .unwrap();
    model.attach_option_sets(optionsets::parse_option_sets(&json, Some("contact")).unwrap(), 1);
    let files = generate(&model, &["transactioncurrencies", "uoms", "contacts"]);
    let contact = files.iter().find(|f| f.path.ends_with("contact.rs")).unwrap();
    assert!(
        contact.contents.contains("pub enum ContactStatecode"),
        "option set enum"
    );
    assert!(
        contact.contents.contains(r#"nav = "parentcustomerid_account""#),
        "polymorphic lookup"
    );
    assert!(
        contact.contents.contains(r#"nav = "parentcustomerid_contact""#),
        "polymorphic lookup"
    );
    insta::assert_snapshot!(joined(&files[..files.len().min(4)]));
}

/// The `#[field(..)]` attributes and the declarations of the fields named (wire names), and every
/// option-set enum's name: the parts of a generated table that entity metadata changes.
fn excerpt(contents: &str, wires: &[&str]) -> String {
    let mut out = String::new();
    let mut attribute = String::new();
    let mut in_attribute = false;
    for line in contents.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("#[field(") {
            in_attribute = true;
            attribute.clear();
        }
        if in_attribute {
            attribute.push_str(line);
            attribute.push('\n');
            if trimmed.ends_with(")]") {
                in_attribute = false;
            }
            continue;
        }
        if trimmed.starts_with("pub ") && !attribute.is_empty() {
            if wires
                .iter()
                .any(|w| attribute.contains(&format!("name = \"{w}\"")))
            {
                out.push_str(&attribute);
                out.push_str(line);
                out.push('\n');
            }
            attribute.clear();
        }
        if trimmed.starts_with("pub enum ") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn dataverse_tables(entity_metadata: bool) -> Vec<emit::GeneratedFile> {
    let mut model = model(&["dataverse/dataverse-dualwrite.xml"]);
    for table in ["account", "contact"] {
        let mut kinds = vec!["Picklist", "State", "Status"];
        if entity_metadata {
            kinds.push("Entity");
        }
        for kind in kinds {
            let file = if kind == "Entity" {
                format!("dataverse-optionsets/{table}.EntityMetadata.json")
            } else {
                format!("dataverse-optionsets/{table}.{kind}OptionSetAttribute.json")
            };
            let json = String::from_utf8(common::read(&file)).unwrap();
            model.attach_option_sets(optionsets::parse_option_sets(&json, Some(table)).unwrap(), 1);
        }
    }
    let options = Options {
        include: ["accounts", "contacts", "systemusers", "teams"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rename: [(
            "Microsoft.Dynamics.CRM.account/industrycode/861980007".to_string(),
            "InsuranceServices".to_string(),
        )]
        .into(),
        ..Options::default()
    };
    emit::generate(&model, &options).unwrap()
}

const FACT_COLUMNS: &[&str] = &[
    "name",
    "openrevenue",
    "createdon",
    "versionnumber",
    "_ownerid_value",
    "_parentcustomerid_value",
    "_transactioncurrencyid_value",
    "customertypecode",
    "emailaddress1",
    "lastname",
    "lastusedincampaign",
    "importsequencenumber",
    "statecode",
];

/// With the corpus's account and contact entity metadata: names from SchemaName, and the facts
/// `$metadata` lacks (required level, create/update validity, polymorphic owner targets) in
/// `#[field]`. Without it, the same names and attributes as before.
#[test]
fn dataverse_entity_metadata_names_and_facts() {
    let with = dataverse_tables(true);
    let account = with.iter().find(|f| f.path.ends_with("account.rs")).unwrap();
    let contact = with.iter().find(|f| f.path.ends_with("contact.rs")).unwrap();
    for (needle, what) in [
        ("pub open_revenue:", "SchemaName OpenRevenue"),
        (
            "pub enum AccountCustomerTypeCode",
            "option set named after SchemaNames",
        ),
        (r#"required = "ApplicationRequired""#, "required level of `name`"),
        (
            "valid_for_create = false",
            "lastusedincampaign is not valid for create",
        ),
        (
            "valid_for_update = false",
            "importsequencenumber is not valid for update",
        ),
    ] {
        assert!(account.contents.contains(needle), "{what}: `{needle}`");
    }
    let owner = excerpt(&account.contents, &["_ownerid_value"]);
    assert!(
        owner.contains("Microsoft.Dynamics.CRM.systemuser") && owner.contains("Microsoft.Dynamics.CRM.team"),
        "{owner}"
    );
    insta::assert_snapshot!(
        "entity_metadata_account",
        excerpt(&account.contents, FACT_COLUMNS)
    );
    insta::assert_snapshot!(
        "entity_metadata_contact",
        excerpt(&contact.contents, FACT_COLUMNS)
    );

    let without = dataverse_tables(false);
    let account = without.iter().find(|f| f.path.ends_with("account.rs")).unwrap();
    assert!(account.contents.contains("pub openrevenue:"));
    assert!(account.contents.contains("pub enum AccountCustomertypecode"));
    assert!(!account.contents.contains("required = "));
    assert!(!excerpt(&account.contents, &["_ownerid_value"]).contains("systemuser"));
    // Entity metadata changes only the tables it describes.
    for file in &without {
        let names_them = ["account.rs", "contact.rs", "mod.rs"]
            .iter()
            .any(|f| file.path.ends_with(f));
        if !names_them {
            let same = with.iter().find(|f| f.path == file.path).unwrap();
            assert_eq!(same.contents, file.contents, "{}", file.path.display());
        }
    }
}

#[test]
fn fo_slice_with_enums_and_company_keys() {
    let files = generate(
        &model(&["fo/fo-dualwrite-core.xml"]),
        &["Currencies", "CustomerGroups"],
    );
    let group = files
        .iter()
        .find(|f| f.path.ends_with("customer_group.rs"))
        .unwrap();
    assert!(group.contents.contains(r#"company = "dataAreaId""#));
    insta::assert_snapshot!(joined(&files));
}

/// A split service's part crates are generated files like any other: `check` sees them, and a
/// generation that no longer splits removes them, folders included.
#[test]
fn part_crates_of_a_split_service_are_checked_and_removed_when_obsolete() {
    let model = model(&["fo/fo-dualwrite-core.xml"]);
    let options = |per_crate| Options {
        include: vec!["CustomersV3".into(), "Currencies".into(), "CustomerGroups".into()],
        crate_name: Some("b".into()),
        entities_per_crate: Some(per_crate),
        ..Options::default()
    };
    let split = emit::generate(&model, &options(2)).unwrap();
    let whole = emit::generate(&model, &options(0)).unwrap();
    assert!(split.iter().any(|f| f.path.starts_with("parts/b-fo-2/src/fo")));
    assert!(!whole.iter().any(|f| f.path.starts_with("parts")));
    let dir = std::env::temp_dir().join(format!("dualsync-split-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    emit::write(&dir, &split).unwrap();
    assert!(emit::check(&dir, &split).is_empty());
    let stale = emit::check(&dir, &whole);
    assert!(
        stale.contains(&Stale::Extra("parts/b-fo-1/Cargo.toml".into())),
        "{stale:?}"
    );
    let report = emit::write(&dir, &whole).unwrap();
    assert!(
        report.removed.iter().all(|p| p.starts_with("parts")),
        "{:?}",
        report.removed
    );
    assert!(!dir.join("parts").exists(), "empty part folders removed");
    assert!(emit::check(&dir, &whole).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A global option set used by several tables is one enum in the service's `enums` module, so a
/// split service keeps it in its types crate, where every part reaches it.
#[test]
fn a_global_option_set_shared_by_tables_lives_in_the_enums_module_of_a_split_service() {
    let global = |table: &str| {
        format!(
            r#"{{"@odata.context":"https://x.crm.dynamics.com/api/data/v9.2/$metadata#EntityDefinitions('{table}')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet,GlobalOptionSet)","value":[
            {{"LogicalName":"customertypecode","OptionSet":null,"GlobalOptionSet":{{"Name":"shared_kind","IsGlobal":true,"OptionSetType":"Picklist","Options":[
            {{"Value":1,"Label":{{"LocalizedLabels":[{{"Label":"One","LanguageCode":1033}}]}}}}]}}}}]}}"#
        )
    };
    let options = Options {
        include: vec!["accounts".into(), "contacts".into()],
        crate_name: Some("b".into()),
        entities_per_crate: Some(1),
        ..Options::default()
    };
    let plain = model(&["dataverse/dataverse-dualwrite.xml"]);
    let split = emit::generate(&plain, &options).unwrap();
    assert!(split.iter().any(|f| f.path.starts_with("parts/b-dataverse-2")));
    let mut shared = plain.clone();
    for table in ["account", "contact"] {
        shared.attach_option_sets(optionsets::parse_option_sets(&global(table), None).unwrap(), 1);
    }
    let files = emit::generate(&shared, &options).unwrap();
    let path = |p: &str| files.iter().find(|f| f.path == std::path::Path::new(p));
    let enum_file =
        path("parts/b-dataverse-types/src/dataverse/enums/shared_kind.rs").expect("in the types crate");
    assert!(
        enum_file.contents.contains("pub enum SharedKind"),
        "{}",
        enum_file.contents
    );
    for table in [
        "parts/b-dataverse-1/src/dataverse/account.rs",
        "parts/b-dataverse-2/src/dataverse/contact.rs",
    ] {
        let file = path(table).unwrap_or_else(|| panic!("{table}"));
        assert!(
            file.contents.contains("super::enums::SharedKind"),
            "{}",
            file.contents
        );
        assert!(
            !file.contents.contains("pub enum SharedKind"),
            "{}",
            file.contents
        );
    }
}

#[test]
fn regeneration_is_byte_identical_and_check_finds_stale_files() {
    let model = model(&["odata/TripPin.xml"]);
    let first = generate(&model, &[]);
    let second = generate(&model, &[]);
    assert_eq!(first, second);
    let dir = std::env::temp_dir().join(format!("dualsync-generate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let report = emit::write(&dir, &first).unwrap();
    assert_eq!(report.written.len(), first.len());
    assert!(emit::check(&dir, &first).is_empty());
    let report = emit::write(&dir, &first).unwrap();
    assert!(report.written.is_empty(), "unchanged files are not rewritten");
    let person = dir.join("trip_pin/person.rs");
    std::fs::write(&person, "// @generated by dualsync-codegen. Do not edit: change dualsync.toml or the metadata and run `dualsync-codegen generate`.\n// edited\n").unwrap();
    let obsolete = dir.join("trip_pin/old_type.rs");
    std::fs::write(&obsolete, emit::text::HEADER).unwrap();
    let stale = emit::check(&dir, &first);
    assert!(
        stale.contains(&Stale::Different("trip_pin/person.rs".into())),
        "{stale:?}"
    );
    assert!(
        stale.contains(&Stale::Extra("trip_pin/old_type.rs".into())),
        "{stale:?}"
    );
    let report = emit::write(&dir, &first).unwrap();
    assert_eq!(
        report.removed,
        vec![std::path::PathBuf::from("trip_pin/old_type.rs")]
    );
    assert!(emit::check(&dir, &first).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn selection_brings_used_types_and_cuts_navigation() {
    let model = model(&["odata/TripPin.xml"]);
    let files = generate(&model, &["Airports"]);
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    // Airport uses the complex types AirportLocation (and its base Location, City); nothing else.
    assert!(names.contains(&"trip_pin/airport.rs".to_string()), "{names:?}");
    assert!(
        names.contains(&"trip_pin/complex/airport_location.rs".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"trip_pin/complex/city.rs".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("person") || n.contains("flight")),
        "{names:?}"
    );
    let excluded = emit::generate(
        &model,
        &Options {
            include: vec!["*".into()],
            exclude: vec!["P*".into()],
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        !excluded
            .iter()
            .any(|f| f.path.ends_with("person.rs") || f.path.ends_with("photo.rs"))
    );
}

#[test]
fn collisions_fail_with_both_sources_and_the_rename_key() {
    let xml = common::edmx(
        r#"<EntityType Name="A"><Key><PropertyRef Name="Id"/></Key>
        <Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="FooBar" Type="Edm.String"/><Property Name="foo_bar" Type="Edm.String"/></EntityType>
        <EnumType Name="STATUS"><Member Name="A"/></EnumType><EnumType Name="Status"><Member Name="B"/></EnumType>
        <EntityType Name="B"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="S" Type="d.Status"/><Property Name="T" Type="d.STATUS"/></EntityType>
        <EntityContainer Name="C"><EntitySet Name="As" EntityType="d.A"/><EntitySet Name="Bs" EntityType="d.B"/></EntityContainer>"#,
    );
    let model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    let Err(GenerateError::Collisions(collisions)) = emit::generate(&model, &Options::default()) else {
        panic!("expected collisions");
    };
    let message = GenerateError::Collisions(collisions.clone()).to_string();
    assert!(
        message.contains("`FooBar` and `foo_bar`")
            || message.contains("`Demo.A/FooBar` and `Demo.A/foo_bar`"),
        "{message}"
    );
    assert!(message.contains("\"Demo.A/foo_bar\""), "{message}");
    assert!(
        message.contains("Demo.STATUS") && message.contains("Demo.Status"),
        "{message}"
    );
    let renames = BTreeMap::from([
        ("Demo.A/foo_bar".to_string(), "foo_bar_raw".to_string()),
        ("Demo.Status".to_string(), "StatusInfo".to_string()),
    ]);
    let files = emit::generate(
        &model,
        &Options {
            rename: renames,
            ..Options::default()
        },
    )
    .unwrap();
    let a = files.iter().find(|f| f.path.ends_with("a.rs")).unwrap();
    assert!(a.contents.contains("pub foo_bar_raw:"), "{}", a.contents);
    assert!(files.iter().any(|f| f.contents.contains("pub enum StatusInfo")));
}

#[test]
fn keywords_and_digits_become_valid_identifiers() {
    let xml = common::edmx(
        r#"<EntityType Name="type"><Key><PropertyRef Name="self"/></Key>
        <Property Name="self" Type="Edm.Int32" Nullable="false"/><Property Name="gen" Type="Edm.String"/>
        <Property Name="1st" Type="Edm.String"/><Property Name="crate" Type="Edm.String"/><Property Name="kind" Type="d.Option"/></EntityType>
        <EnumType Name="Option"><Member Name="Self"/><Member Name="1"/></EnumType>"#,
    );
    let model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    let files = emit::generate(&model, &Options::default()).unwrap();
    let all = joined(&files);
    for expected in [
        "pub struct Type",
        "pub self_:",
        "pub gen_:",
        "pub _1st:",
        "pub crate_:",
        "pub enum Option_",
        "Self_,",
        "N1,",
    ] {
        assert!(all.contains(expected), "missing {expected}:\n{all}");
    }
}

/// What generated code makes of a file's text, for assertions.
fn file<'f>(files: &'f [emit::GeneratedFile], path: &str) -> &'f str {
    files
        .iter()
        .find(|f| f.path == std::path::Path::new(path))
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
}

/// A real Dataverse org has entity type `relationshipattribute` and complex type
/// `RelationshipAttribute`: kinds have places of their own, so it generates with no configuration.
#[test]
fn an_entity_and_a_complex_type_of_one_name_need_no_rename() {
    let xml = common::edmx(
        r#"<EntityType Name="relationshipattribute"><Key><PropertyRef Name="Id"/></Key>
        <Property Name="Id" Type="Edm.Guid" Nullable="false"/><Property Name="detail" Type="d.RelationshipAttribute"/>
        <Property Name="status" Type="d.Status"/></EntityType>
        <ComplexType Name="RelationshipAttribute"><Property Name="Name" Type="Edm.String"/><Property Name="status" Type="d.Status"/></ComplexType>
        <EntityType Name="Status"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32" Nullable="false"/></EntityType>
        <EnumType Name="Status"><Member Name="Open"/><Member Name="Closed"/></EnumType>
        <EntityType Name="complex"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32" Nullable="false"/></EntityType>"#,
    )
    .replace("<EnumType Name=\"Status\">", "<EnumType Name=\"Status_\">")
    .replace("Type=\"d.Status\"/>", "Type=\"d.Status_\"/>");
    // `Status` (entity) and `Status_` (enum) both become `Status`: one identifier, two places.
    let model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    let files = emit::generate(&model, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let entity = file(&files, "demo/relationshipattribute.rs");
    assert!(entity.contains("pub struct Relationshipattribute"), "{entity}");
    assert!(
        entity.contains("super::complex::RelationshipAttribute"),
        "{entity}"
    );
    assert!(entity.contains("super::enums::Status"), "{entity}");
    let complex = file(&files, "demo/complex/relationship_attribute.rs");
    assert!(complex.contains("pub struct RelationshipAttribute"), "{complex}");
    assert!(complex.contains("super::super::enums::Status"), "{complex}");
    assert!(file(&files, "demo/enums/status.rs").contains("pub enum Status"));
    assert!(file(&files, "demo/status.rs").contains("pub struct Status"));
    // An entity named like the generator's own folder gets a file of its own.
    assert!(file(&files, "demo/complex_.rs").contains("pub struct Complex"));
    let service = file(&files, "demo/mod.rs");
    assert!(
        service.contains("pub mod complex;") && service.contains("pub mod enums;"),
        "{service}"
    );
    assert!(
        service.contains("pub use complex::{RelationshipAttribute};")
            || service.contains("pub use complex::RelationshipAttribute;"),
        "{service}"
    );
    // The entity keeps the short path; the enum is reached through `enums`.
    assert!(
        service.contains("pub use status::Status;") || service.contains("pub use status::{Status};"),
        "{service}"
    );
    assert!(!service.contains("pub use enums::"), "{service}");
    assert!(file(&files, "demo/enums/mod.rs").contains("pub use status::Status;"));
}

/// Azure DevOps Analytics has an enum member `Unrecognized`: the generator's fallback steps aside.
#[test]
fn an_enum_member_named_like_the_fallback_keeps_its_name() {
    let xml = common::edmx(
        r#"<EnumType Name="Outcome"><Member Name="Passed"/><Member Name="Unrecognized"/></EnumType>
        <EnumType Name="Plain"><Member Name="A"/></EnumType>
        <EntityType Name="Run"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="Outcome" Type="d.Outcome"/><Property Name="Plain" Type="d.Plain"/></EntityType>"#,
    );
    let model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    let files = emit::generate(&model, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = file(&files, "demo/enums/outcome.rs");
    assert!(outcome.contains("    Unrecognized,\n"), "{outcome}");
    assert!(
        outcome.contains("Unrecognized_(::std::string::String)"),
        "{outcome}"
    );
    assert!(
        outcome.contains("#[member(name = \"Unrecognized\", value = 1)]"),
        "{outcome}"
    );
    let plain = file(&files, "demo/enums/plain.rs");
    assert!(plain.contains("Unrecognized(::std::string::String)"), "{plain}");
}

/// Dataverse labels options "Unknown" all the time: the option-set fallback steps aside too.
#[test]
fn an_option_labelled_like_the_fallback_keeps_its_name() {
    let xml = common::edmx(
        r#"<EntityType Name="lead"><Key><PropertyRef Name="leadid"/></Key><Property Name="leadid" Type="Edm.Guid" Nullable="false"/>
        <Property Name="source" Type="Edm.Int32"/></EntityType>"#,
    )
    .replace("Namespace=\"Demo\"", "Namespace=\"Microsoft.Dynamics.CRM\"");
    let json = r#"{"value":[{"LogicalName":"source","AttributeType":"Picklist","OptionSet":{"Name":"lead_source","IsGlobal":false,"OptionSetType":"Picklist","Options":[
        {"Value":1,"Label":{"LocalizedLabels":[{"Label":"Web","LanguageCode":1033}]}},
        {"Value":2,"Label":{"LocalizedLabels":[{"Label":"Unknown","LanguageCode":1033}]}}]}}]}"#;
    let mut model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    model.attach_option_sets(optionsets::parse_option_sets(json, Some("lead")).unwrap(), 1);
    let files = emit::generate(&model, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let lead = file(&files, "dataverse/lead.rs");
    assert!(lead.contains("pub enum LeadSource"), "{lead}");
    assert!(
        lead.contains("    Unknown,\n") && lead.contains("Unknown_(i32)"),
        "{lead}"
    );
    assert!(lead.contains("Option<LeadSource>"), "{lead}");
}

/// Graph v1.0: an action and a function share a name (`delta`), with overloads; the generator, which
/// emits no operations, is not bothered.
#[test]
fn operations_sharing_a_name_generate() {
    let xml = common::edmx(GRAPH_LIKE);
    let model = Model::resolve(vec![csdl::parse_str(&xml).unwrap()]).unwrap();
    assert_eq!(
        model.actions["Demo.delta"].len() + model.functions["Demo.delta"].len(),
        4
    );
    let files = emit::generate(&model, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(file(&files, "demo/user.rs").contains("pub struct User"));
}

/// A Graph-shaped schema body: entity types, and `delta` / `count` as both action and function.
pub const GRAPH_LIKE: &str = r#"<EntityType Name="user"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<EntityType Name="group"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.user)"/><ReturnType Type="Collection(d.user)"/></Action>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.group)"/><ReturnType Type="Collection(d.group)"/></Action>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.user)"/><ReturnType Type="Collection(d.user)"/></Function>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.group)"/><ReturnType Type="Collection(d.group)"/></Function>
<Action Name="count"/><Function Name="count"><ReturnType Type="Edm.Int32"/></Function>
<EntityContainer Name="Service"><EntitySet Name="users" EntityType="d.user"/><EntitySet Name="groups" EntityType="d.group"/>
<ActionImport Name="countNow" Action="d.count"/><FunctionImport Name="countOf" Function="d.count"/></EntityContainer>"#;
