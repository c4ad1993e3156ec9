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
