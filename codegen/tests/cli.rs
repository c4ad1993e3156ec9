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

/// Graph's shape: `delta` is an action and a function, each overloaded; SAP's shape: `sap:` attributes
/// without `xmlns:sap`. Both are read; each element counts once; the prefix is a warning with its place.
#[test]
fn inspect_counts_shared_operation_names_once_per_element_and_warns_of_undeclared_prefixes() {
    let dir = scratch("graph-like");
    let file = dir.join("graph.xml");
    std::fs::write(
        &file,
        common::edmx(
            r#"<EntityType Name="user" sap:content-version="1"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<Action Name="delta" IsBound="true"><Parameter Name="b" Type="Collection(d.user)"/></Action>
<Action Name="delta"/>
<Function Name="delta" IsBound="true"><Parameter Name="b" Type="Collection(d.user)"/><ReturnType Type="Collection(d.user)"/></Function>"#,
        ),
    )
    .unwrap();
    let out = run(&["inspect", "--json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["actions"].clone(), json["functions"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(json["warnings"], 1);
    let out = run(&["inspect", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("graph.xml:5:")
            && stderr.contains("warning: namespace prefix `sap` of attribute `sap:content-version`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dualsync-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_input_read_is_bounded() {
    let dir = scratch("limits");
    let xml = dir.join("big.xml");
    std::fs::write(&xml, common::edmx(&"<!-- padding -->\n".repeat(100))).unwrap();
    let xml_arg = xml.to_str().unwrap();
    let out = run(&["inspect", xml_arg, "--max-input-size", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("big.xml") && stderr.contains("larger than 1000 bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("--max-input-size"), "{stderr}");
    let out = run(&["inspect", xml_arg, "--max-input-size", "100000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out_dir = dir.join("out");
    let out = run(&[
        "generate",
        "--metadata",
        xml_arg,
        "--out",
        out_dir.to_str().unwrap(),
        "--max-input-size",
        "1000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 1000 bytes"));
    assert!(!out_dir.exists());

    #[cfg(unix)]
    if std::path::Path::new("/dev/zero").exists() {
        // Not a regular file: its size is unknown until read; only limit + 1 bytes are.
        let started = std::time::Instant::now();
        let out = run(&["inspect", "/dev/zero", "--max-input-size", "4096"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("/dev/zero") && stderr.contains("larger than 4096 bytes"),
            "{stderr}"
        );
        assert!(started.elapsed().as_secs() < 30);
        // Option-set JSON has a 64 MiB default.
        let json = dir.join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &json).unwrap();
        let out = run(&["inspect", xml_arg, json.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("larger than 67108864 bytes"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bytes a terminal would act on: ESC, BEL, other C0 controls but tab and line feed, DEL, C1, and the
/// bidi controls (in UTF-8).
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .map(|c| format!("{c:?}"))
        .collect()
}

#[test]
fn outside_text_reaches_the_terminal_escaped() {
    let dir = scratch("escapes");
    // An error whose snippet holds escape sequences and bidi controls.
    let bad = dir.join("bad\u{1b}[31m.xml");
    std::fs::write(
        &bad,
        common::edmx(
            "<!-- \u{1b}]0;pwned\u{7} \u{1b}[2J \u{7f} \u{9b} -->\n<ComplexType Name=\"C\u{202e}\"><Property Name=\"P\" Type=\"Demo.Missing\u{202e}\u{1b}[0m\"/></ComplexType>",
        ),
    )
    .unwrap();
    let out = run(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(raw_controls(&out.stderr), Vec::<String>::new());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r"\x1b[2J") && stderr.contains(r"\x07"),
        "{stderr}"
    );
    assert!(stderr.contains(r"Demo.Missing\u{202e}\x1b[0m"), "{stderr}");
    assert!(stderr.contains(r"bad\x1b[31m.xml"), "{stderr}");
    assert!(
        stderr.contains("Type=\"Demo.Missing"),
        "the snippet is still shown: {stderr}"
    );

    // Warnings, `--type` text and JSON output.
    let good = dir.join("good.xml");
    std::fs::write(
        &good,
        common::edmx(
            "<EntityType Name=\"E\u{202e}vil\"><Key><PropertyRef Name=\"Id\"/></Key><Property Name=\"Id\" Type=\"Edm.Int32\" Nullable=\"false\"/>\
             <Property Name=\"x\u{2066}\" Type=\"Edm.String\"/><Annotation Term=\"Org.OData.Core.V1.Description\" String=\"red \u{1b}[31m \u{9b}2J\"/></EntityType>\
             <EntityContainer Name=\"C\"><EntitySet Name=\"Es\" EntityType=\"Demo.E\u{202e}vil\"><NavigationPropertyBinding Path=\"x\" Target=\"Missing\u{202e}\u{1b}[1m\"/></EntitySet></EntityContainer>",
        ),
    )
    .unwrap();
    let good = good.to_str().unwrap();
    let out = run(&["inspect", good]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(raw_controls(&out.stdout), Vec::<String>::new());
    assert_eq!(raw_controls(&out.stderr), Vec::<String>::new());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(r"Missing\u{202e}\x1b[1m"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["inspect", good, "--type", "Es"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(raw_controls(&out.stdout), Vec::<String>::new());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(r"E\u{202e}vil") && stdout.contains(r"red \x1b[31m"),
        "{stdout}"
    );
    let out = run(&["inspect", good, "--type", "Es", "--json"]);
    assert_eq!(raw_controls(&out.stdout), Vec::<String>::new());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["name"], "Demo.E\u{202e}vil", "the JSON value is unchanged");
    let out = run(&["inspect", good, "--outline"]);
    assert_eq!(raw_controls(&out.stdout), Vec::<String>::new());
    let out = run(&["inspect", good, "--type", "Nope\u{1b}[2J"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(raw_controls(&out.stderr), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generate_refuses_to_overwrite_a_hand_written_crate() {
    let dir = scratch("foreign");
    let manifest = "[package]\nname = \"mine\"\nversion = \"0.1.0\"\n";
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let out = run(&[
        "generate",
        "--metadata",
        &path("odata/TripPin.xml"),
        "--out",
        dir.to_str().unwrap(),
        "--crate",
        "trippin",
        "--runtime-path",
        "../runtime",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Cargo.toml") && stderr.contains("did not write"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("Cargo.toml")).unwrap(), manifest);
    assert!(!dir.join("src").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}
