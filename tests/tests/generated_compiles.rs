//! Every entity type of every corpus document generates, and the generated code compiles: all of it
//! goes into one temporary crate (a module per document) that `cargo check` must accept.

use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::emit::{self, Options};
use dualsync_codegen::model::Model;
use dualsync_tests::{cargo_check_offline, corpus_dir, corpus_documents, detach_from_workspace, workspace};

fn module_name(relative: &str) -> String {
    let stem: String = relative
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("doc_{stem}")
}

#[test]
fn every_corpus_document_generates_code_that_compiles() {
    let dir = std::env::temp_dir().join(format!("dualsync-generated-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut modules = Vec::new();
    let mut generated_types = 0;
    for relative in corpus_documents() {
        let bytes = std::fs::read(corpus_dir().join(&relative)).unwrap();
        let Ok(document) = csdl::parse_bytes(&bytes) else {
            continue; // OData v2/v3: refused, see corpus.rs
        };
        let mut model = Model::resolve(vec![document]).unwrap_or_else(|e| panic!("{relative}: {e}"));
        if relative == "dataverse/crm_schema.xml" {
            for entry in std::fs::read_dir(corpus_dir().join("dataverse-optionsets"))
                .unwrap()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().to_string();
                let json = std::fs::read_to_string(entry.path()).unwrap();
                let tables = optionsets::parse_option_sets(&json, name.split('.').next()).unwrap();
                model.attach_option_sets(tables, 1);
            }
        }
        // The real option sets label two industry options "Insurance": the rename the error asks for.
        let options = Options {
            rename: [(
                "Microsoft.Dynamics.CRM.account/industrycode/861980007".to_string(),
                "InsuranceServices".to_string(),
            )]
            .into(),
            ..Options::default()
        };
        let files = emit::generate(&model, &options).unwrap_or_else(|e| panic!("{relative}: {e}"));
        generated_types += files.len();
        let module = module_name(&relative);
        emit::write(&dir.join("src").join(&module), &files).unwrap();
        modules.push(module);
    }
    assert!(modules.len() >= 40, "{modules:?}");
    let mut lib = String::from("#![allow(dead_code, clippy::all)]\n");
    for module in &modules {
        lib.push_str(&format!("#[path = \"{module}/mod.rs\"]\npub mod {module};\n"));
    }
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    let runtime = workspace().join("runtime");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus-bindings\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ndualsync = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    if let Err(stderr) = cargo_check_offline(&dir) {
        panic!("cargo check of {generated_types} generated files failed:\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crate_mode_output_compiles_as_it_is() {
    let dir = std::env::temp_dir().join(format!("dualsync-generated-crate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = std::fs::read(corpus_dir().join("fo/fo-dualwrite-core.xml")).unwrap();
    let model = Model::resolve(vec![csdl::parse_bytes(&bytes).unwrap()]).unwrap();
    let options = Options {
        include: vec!["CustomersV3".into(), "Currencies".into()],
        crate_name: Some("fo-bindings".into()),
        runtime_path: Some(workspace().join("runtime").display().to_string()),
        sources: vec!["fo-dualwrite-core.xml".into()],
        ..Options::default()
    };
    let files = emit::generate(&model, &options).unwrap();
    emit::write(&dir, &files).unwrap();
    for expected in [
        "Cargo.toml",
        "README.md",
        "src/lib.rs",
        "src/fo/mod.rs",
        "src/fo/customer_v3.rs",
    ] {
        assert!(dir.join(expected).exists(), "{expected} missing");
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(
        readme.contains("| `CustomerV3` | `CustomersV3` | `dataAreaId`, `CustomerAccount` | 305 |"),
        "{readme}"
    );
    detach_from_workspace(&dir).unwrap();
    cargo_check_offline(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Generated code as a module of a user's binary (`mod bindings;`) gives no warning, even under
/// `#![deny(warnings)]`: types the program does not use are not its dead code, and no lint has a fix
/// for `cargo fix` to apply to generated files.
#[test]
fn generated_modules_in_a_binary_give_no_warnings() {
    let dir = std::env::temp_dir().join(format!("dualsync-generated-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let bytes = std::fs::read(corpus_dir().join("fo/fo-dualwrite-core.xml")).unwrap();
    let model = Model::resolve(vec![csdl::parse_bytes(&bytes).unwrap()]).unwrap();
    let options = Options {
        include: vec!["CustomersV3".into(), "Currencies".into()],
        ..Options::default()
    };
    let files = emit::generate(&model, &options).unwrap();
    emit::write(&dir.join("src/bindings"), &files).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "#![deny(warnings)]\nmod bindings;\n\nfn main() {\n    let _ = <bindings::fo::Currency as dualsync::entity::Entity>::SET;\n}\n",
    )
    .unwrap();
    let runtime = workspace().join("runtime");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"user-bin\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ndualsync = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    if let Err(stderr) = cargo_check_offline(&dir) {
        panic!("a binary with the generated module warns or fails:\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Crate mode with a service bigger than `entities_per_crate`: its enum types in one crate and its
/// entities in crates of that size under `parts/`, the generated crate re-exporting them all at the
/// usual paths; the whole compiles.
#[test]
fn a_big_service_is_split_into_crates_that_compile() {
    let dir = std::env::temp_dir().join(format!("dualsync-generated-split-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = std::fs::read(corpus_dir().join("fo/fo-dualwrite-core.xml")).unwrap();
    let model = Model::resolve(vec![csdl::parse_bytes(&bytes).unwrap()]).unwrap();
    let options = Options {
        include: vec!["CustomersV3".into(), "Currencies".into(), "CustomerGroups".into()],
        crate_name: Some("fo-bindings".into()),
        runtime_path: Some(workspace().join("runtime").display().to_string()),
        entities_per_crate: Some(2),
        ..Options::default()
    };
    let files = emit::generate(&model, &options).unwrap();
    emit::write(&dir, &files).unwrap();
    for expected in [
        "parts/fo-bindings-fo-types/src/fo/enums/no_yes.rs",
        "parts/fo-bindings-fo-1/Cargo.toml",
        "parts/fo-bindings-fo-2/src/fo/mod.rs",
        "src/fo/mod.rs",
    ] {
        assert!(dir.join(expected).exists(), "{expected} missing");
    }
    assert!(
        !dir.join("parts/fo-bindings-fo-3").exists(),
        "3 entities, 2 per crate"
    );
    assert!(
        !dir.join("src/fo/customer_v3.rs").exists(),
        "moved to its part crate"
    );
    let service = std::fs::read_to_string(dir.join("src/fo/mod.rs")).unwrap();
    assert!(service.contains("pub use fo_bindings_fo_2::fo::*;"), "{service}");
    // The usual paths still name every type.
    let mut lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    lib.push_str("pub type Uses = (fo::CustomerV3, fo::Currency, fo::CustomerGroup, fo::enums::NoYes);\n");
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    detach_from_workspace(&dir).unwrap();
    cargo_check_offline(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Schema bodies shaped like real services the generator had not seen (issue 8).
mod real_orgs {
    /// Dataverse: entity type `relationshipattribute` and complex type `RelationshipAttribute`.
    pub const DATAVERSE: &str = r#"
<EntityType Name="relationshipattribute"><Key><PropertyRef Name="relationshipattributeid"/></Key>
  <Property Name="relationshipattributeid" Type="Edm.Guid" Nullable="false"/>
  <Property Name="name" Type="Edm.String"/><Property Name="detail" Type="mscrm.RelationshipAttribute"/>
  <Property Name="kind" Type="mscrm.Kind"/><Property Name="msp_contactpreference" Type="Edm.Int32"/></EntityType>
<ComplexType Name="RelationshipAttribute"><Property Name="ReferencedAttribute" Type="Edm.String"/>
  <Property Name="Kind" Type="mscrm.Kind"/></ComplexType>
<EntityType Name="kind"><Key><PropertyRef Name="kindid"/></Key><Property Name="kindid" Type="Edm.Guid" Nullable="false"/>
  <Property Name="msp_faxpreference" Type="Edm.Int32"/><Property Name="msp_mailpreference" Type="Edm.Int32"/></EntityType>
<EnumType Name="Kind"><Member Name="Simple" Value="0"/><Member Name="Unrecognized" Value="1"/><Member Name="Unknown" Value="2"/></EnumType>
<EntityContainer Name="System"><EntitySet Name="relationshipattributes" EntityType="mscrm.relationshipattribute"/>
  <EntitySet Name="kinds" EntityType="mscrm.kind"/></EntityContainer>"#;

    /// Option sets of the Dataverse document: three columns of two tables use one global option set.
    pub fn global_option_sets(table: &str, columns: &[&str]) -> String {
        let attributes: Vec<String> = columns
            .iter()
            .map(|c| {
                format!(
                    r#"{{"LogicalName":"{c}","OptionSet":null,"GlobalOptionSet":{{"Name":"msp_contactpreferencescode","IsGlobal":true,"OptionSetType":"Picklist","Options":[
                    {{"Value":1,"Label":{{"LocalizedLabels":[{{"Label":"Allow","LanguageCode":1033}}]}}}},
                    {{"Value":2,"Label":{{"LocalizedLabels":[{{"Label":"Do not allow","LanguageCode":1033}}]}}}}]}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"@odata.context":"https://x.crm.dynamics.com/api/data/v9.2/$metadata#EntityDefinitions('{table}')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet,GlobalOptionSet)","value":[{}]}}"#,
            attributes.join(",")
        )
    }

    /// Microsoft Graph: `delta` and `count` are both an action and a function, overloaded.
    pub const GRAPH: &str = r#"
<EntityType Name="user"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<EntityType Name="group"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(graph.user)"/><ReturnType Type="Collection(graph.user)"/></Action>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(graph.group)"/><ReturnType Type="Collection(graph.group)"/></Action>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(graph.user)"/><ReturnType Type="Collection(graph.user)"/></Function>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(graph.group)"/><ReturnType Type="Collection(graph.group)"/></Function>
<Action Name="count"/><Function Name="count"><ReturnType Type="Edm.Int32"/></Function>
<EntityContainer Name="GraphService"><EntitySet Name="users" EntityType="graph.user"/><EntitySet Name="groups" EntityType="graph.group"/>
  <ActionImport Name="countNow" Action="graph.count"/><FunctionImport Name="countOf" Function="graph.count"/></EntityContainer>"#;

    /// An EDMX document of one schema, with a `sap:` attribute whose prefix nobody declares.
    pub fn document(namespace: &str, alias: &str, body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="{namespace}" Alias="{alias}" xmlns="http://docs.oasis-open.org/odata/ns/edm" sap:schema-version="1">{body}</Schema>
</edmx:DataServices></edmx:Edmx>"#
        )
    }
}

/// Whole documents of real shapes generate with no configuration and compile (issue 8): a Dataverse
/// document with both `relationshipattribute` and `RelationshipAttribute` (and enum members named
/// like the generator's fallbacks), the corpus's whole `crm_schema.xml`, and a Graph-like document
/// whose actions and functions share names. One `cargo check` for all of them.
#[test]
fn real_org_shapes_generate_without_config_and_compile() {
    let dir = std::env::temp_dir().join(format!("dualsync-real-orgs-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let documents = [
        (
            "dataverse_like",
            real_orgs::document("Microsoft.Dynamics.CRM", "mscrm", real_orgs::DATAVERSE).into_bytes(),
        ),
        (
            "crm_schema",
            std::fs::read(corpus_dir().join("dataverse/crm_schema.xml")).unwrap(),
        ),
        (
            "graph_like",
            real_orgs::document("microsoft.graph", "graph", real_orgs::GRAPH).into_bytes(),
        ),
    ];
    let mut lib = String::from("#![allow(dead_code, clippy::all)]\n");
    for (module, bytes) in &documents {
        let document = csdl::parse_bytes(bytes).unwrap_or_else(|e| panic!("{module}: {e}"));
        let mut model = Model::resolve(vec![document]).unwrap_or_else(|e| panic!("{module}: {e}"));
        if *module == "dataverse_like" {
            for (table, columns) in [
                ("kind", &["msp_faxpreference", "msp_mailpreference"][..]),
                ("relationshipattribute", &["msp_contactpreference"][..]),
            ] {
                let json = real_orgs::global_option_sets(table, columns);
                model.attach_option_sets(optionsets::parse_option_sets(&json, None).unwrap(), 1);
            }
        }
        let files = emit::generate(&model, &Options::default()).unwrap_or_else(|e| panic!("{module}: {e}"));
        emit::write(&dir.join("src").join(module), &files).unwrap();
        lib.push_str(&format!("#[path = \"{module}/mod.rs\"]\npub mod {module};\n"));
        if *module != "crm_schema" {
            assert!(
                model.warnings.iter().any(|w| w.message.contains("`sap`")),
                "{module}: {:?}",
                model.warnings
            );
        }
    }
    // Both names reachable, each in its kind's place; the fallbacks stepped aside.
    let dataverse = dir.join("src/dataverse_like/dataverse");
    let entity = std::fs::read_to_string(dataverse.join("relationshipattribute.rs")).unwrap();
    assert!(
        entity.contains("super::complex::RelationshipAttribute"),
        "{entity}"
    );
    let kind = std::fs::read_to_string(dataverse.join("enums/kind.rs")).unwrap();
    assert!(kind.contains("Unrecognized_(::std::string::String)"), "{kind}");
    // A global option set is one enum in the enums module, used by every column of every table.
    let shared = std::fs::read_to_string(dataverse.join("enums/msp_contactpreferencescode.rs")).unwrap();
    assert_eq!(
        shared.matches("pub enum MspContactpreferencescode").count(),
        1,
        "{shared}"
    );
    let kind_table = std::fs::read_to_string(dataverse.join("kind.rs")).unwrap();
    assert!(
        !kind_table.contains("pub enum MspContactpreferencescode"),
        "{kind_table}"
    );
    assert_eq!(
        kind_table
            .matches(r#"option_set = "msp_contactpreferencescode""#)
            .count(),
        2,
        "{kind_table}"
    );
    assert_eq!(
        kind_table
            .matches("super::enums::MspContactpreferencescode")
            .count(),
        2,
        "{kind_table}"
    );
    assert!(
        entity.contains("super::enums::MspContactpreferencescode"),
        "{entity}"
    );
    lib.push_str(
        "pub type Uses = (dataverse_like::dataverse::Relationshipattribute, dataverse_like::dataverse::RelationshipAttribute, dataverse_like::dataverse::Kind, dataverse_like::dataverse::enums::Kind);\n",
    );
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    let runtime = workspace().join("runtime");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"real-org-bindings\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ndualsync = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    if let Err(stderr) = cargo_check_offline(&dir) {
        panic!("cargo check of the real-org documents' code failed:\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
