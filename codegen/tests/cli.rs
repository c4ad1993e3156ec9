//! The `dualsync-codegen` command line: output, exit codes and error rendering.

mod common;

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualsync-codegen"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run dualsync-codegen")
}

fn path(relative: &str) -> String {
    common::corpus(relative).display().to_string()
}

#[test]
fn inspect_json_has_the_counts() {
    let out = run(&["inspect", "--json", &path("dataverse/crm_schema.xml")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (key, expected) in [
        ("entity_types", 280),
        ("complex_types", 150),
        ("enum_types", 38),
        ("entity_sets", 252),
        ("singletons", 0),
        ("actions", 149),
        ("functions", 174),
        ("properties", 7547),
        ("navigation_properties", 5228),
    ] {
        assert_eq!(json[key], expected, "{key}");
    }
    assert_eq!(json["namespaces"][0], "Microsoft.Dynamics.CRM");
}

#[test]
fn inspect_text_summary_and_one_type() {
    let out = run(&["inspect", &path("fo/fo-dualwrite-core.xml")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("namespace:  Microsoft.Dynamics.DataEntities"),
        "{text}"
    );
    assert!(text.contains("largest types"), "{text}");

    let out = run(&[
        "inspect",
        &path("fo/fo-dualwrite-core.xml"),
        "--type",
        "CustomersV3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("entity type Microsoft.Dynamics.DataEntities.CustomerV3"),
        "{text}"
    );
    assert!(text.contains("key: dataAreaId, CustomerAccount"), "{text}");
    assert!(text.contains("company_specific"), "{text}");
    assert!(text.contains("properties (305)"), "{text}");
}

#[test]
fn inspect_type_shows_inherited_properties_and_option_sets() {
    let mut args = vec!["inspect".to_string(), path("dataverse/crm_schema.xml")];
    args.extend(["Picklist", "State", "Status", "Boolean"].iter().map(|k| {
        path(&format!(
            "dataverse-optionsets/account.{k}OptionSetAttribute.json"
        ))
    }));
    args.extend(["--type".into(), "account".into(), "--json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["name"], "Microsoft.Dynamics.CRM.account");
    assert_eq!(json["base_type"], "Microsoft.Dynamics.CRM.crmbaseentity");
    assert_eq!(json["key"][0]["name"], "accountid");
    let lookups = json["lookups"].as_array().unwrap();
    assert!(lookups.iter().any(|l| l["column"] == "_parentaccountid_value"));

    let out = run(&["inspect", &path("odata/TripPin.xml"), "--type", "Flight"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("from Microsoft.OData.SampleService.Models.TripPin.PlanItem"),
        "{text}"
    );
    assert!(text.contains("key: PlanItemId (inherited)"), "{text}");
}

#[test]
fn input_errors_exit_1_with_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("dualsync-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.xml");
    std::fs::write(
        &bad,
        common::edmx(r#"<ComplexType Name="C"><Property Name="P" Type="Demo.Missing"/></ComplexType>"#),
    )
    .unwrap();
    let out = run(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bad.xml:5:23"), "{stderr}");
    assert!(stderr.contains("`Demo.Missing`"), "{stderr}");
    assert!(
        stderr.contains(r#"Type="Demo.Missing""#),
        "the offending text is shown: {stderr}"
    );

    let out = run(&["inspect", &path("odata/oasis-odata-rw-v2.xml")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("OData v2.0 metadata"), "{stderr}");

    let out = run(&["inspect", dir.join("missing.xml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn warnings_go_to_stderr_and_do_not_fail() {
    let out = run(&["inspect", &path("fo/captured/sales_trimmed_metadata.xml")]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("warning: NavigationPropertyBinding"), "{stderr}");
}

#[test]
fn outline_is_deterministic() {
    let a = run(&["inspect", "--outline", &path("odata/odata2ts-library.xml")]);
    let b = run(&["inspect", "--outline", &path("odata/odata2ts-library.xml")]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert!(String::from_utf8_lossy(&a.stdout).contains("entity Library.Service."));
}

#[test]
fn inspect_json_is_right_on_every_corpus_document() {
    let expected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(common::corpus("expected-counts.json")).unwrap())
            .unwrap();
    assert!(expected.len() >= 40);
    for (relative, want) in &expected {
        let out = run(&["inspect", "--json", &path(relative)]);
        if want.get("error").is_some() {
            assert_eq!(out.status.code(), Some(1), "{relative}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("is not supported"), "{relative}: {stderr}");
            continue;
        }
        assert!(
            out.status.success(),
            "{relative}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for (key, value) in want.as_object().unwrap() {
            assert_eq!(&got[key], value, "{relative}: {key}");
        }
    }
}
