//! Map files: every error the parser and the generator report, at its file, line and column; a
//! generated map (snapshot); and the standard maps of `generated/maps` generating against
//! `generated/metadata`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dualsync_codegen::config::Codegen;
use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::emit::{self, GenerateError, Options};
use dualsync_codegen::mapfile::{self, Diagnostic, Parsed};
use dualsync_codegen::model::Model;

fn generated_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated")
}

/// The config of the committed `generated/` crate.
fn config() -> Codegen {
    Codegen::load(&generated_dir().join("dualsync.toml")).unwrap()
}

/// The model `generate` builds for `generated/` (metadata plus option sets), built once.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let config = config();
        let documents = config
            .metadata
            .iter()
            .map(|p| csdl::parse_bytes(&std::fs::read(p).unwrap()).unwrap())
            .collect();
        let mut model = Model::resolve(documents).unwrap();
        let dir = config.option_sets.unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for (index, file) in files.iter().enumerate() {
            let hint = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('.').next());
            let tables = optionsets::parse_option_sets(&std::fs::read_to_string(file).unwrap(), hint)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            model.attach_option_sets(tables, index + 2);
        }
        model
    })
}

fn options(maps: Vec<Parsed>) -> Options {
    let config = config();
    Options {
        include: config.include,
        crate_name: config.crate_name,
        language: config.language,
        rename: config.rename,
        maps,
        ..Options::default()
    }
}

/// The one parse error of `text` (file `maps/m.toml`).
fn parse_error(text: &str) -> Diagnostic {
    match mapfile::parse("maps/m.toml", text) {
        Err(mut errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            errors.remove(0)
        }
        Ok(parsed) => panic!("expected an error, got {parsed:?}"),
    }
}

/// The errors of generating the map `text` against the `generated/` metadata.
fn generate_errors(text: &str) -> Vec<Diagnostic> {
    let parsed = mapfile::parse("maps/m.toml", text).unwrap_or_else(|e| panic!("{e:?}"));
    match emit::generate(model(), &options(vec![parsed])) {
        Err(GenerateError::MapFiles(errors)) => errors,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("expected map file errors"),
    }
}

fn generate_error(text: &str) -> Diagnostic {
    let mut errors = generate_errors(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

fn assert_at(error: &Diagnostic, line: usize, column: usize, message: &str) {
    assert_eq!(
        (error.file.as_str(), error.line, error.column),
        ("maps/m.toml", line, column),
        "{error}"
    );
    assert!(error.message.contains(message), "{message:?} not in: {error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("maps/m.toml:{line}:{column}: "))
    );
}

const HEAD: &str = "name = \"CurrencyMap\"\nfo = \"Currencies\"\ndv = \"transactioncurrencies\"\n";

/// HEAD plus a key column pair (lines 4-9) plus `rest` from line 10.
fn with_key(rest: &str) -> String {
    format!(
        "{HEAD}\n[[columns]]\nfo = \"CurrencyCode\"\ndv = \"isocurrencycode\"\ndirection = \"both\"\nkey = true\n{rest}"
    )
}

#[test]
fn toml_syntax_error() {
    let e = parse_error("name = \"A\"\nfo = = \"Currencies\"\n");
    assert_at(&e, 2, 6, "");
    assert!(!e.message.is_empty());
}

#[test]
fn unknown_key() {
    let e = parse_error(&format!("{HEAD}colour = \"red\"\n"));
    assert_at(&e, 4, 1, "unknown field `colour`");
}

#[test]
fn missing_field() {
    let e = parse_error("name = \"A\"\nfo = \"Currencies\"\n");
    assert_at(&e, 1, 1, "missing field `dv`");
}

#[test]
fn bad_direction() {
    let e = parse_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\ndv = \"currencyname\"\ndirection = \"sideways\"\n",
    ));
    assert_at(&e, 14, 13, "direction `sideways` is not one of");
}

#[test]
fn missing_direction() {
    let e = parse_error(&with_key("\n[[columns]]\nfo = \"Name\"\ndv = \"currencyname\"\n"));
    assert_at(&e, 11, 1, "has no direction");
}

#[test]
fn bad_master_and_name() {
    let errors = mapfile::parse(
        "maps/m.toml",
        "name = \"lower case\"\nfo = \"Currencies\"\ndv = \"transactioncurrencies\"\nmaster = \"both\"\n",
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_at(&errors[0], 1, 8, "PascalCase");
    assert_at(&errors[1], 4, 10, "master `both` is not a side");
}

#[test]
fn lookup_paths() {
    // Through further tables: the lookups on the way, then the key column.
    let Ok(Parsed::Map(map)) = mapfile::parse(
        "maps/m.toml",
        &with_key("\n[[columns]]\nfo = \"Name\"\nlookup = \"a.b.c\"\ndirection = \"fo_to_dv\"\n"),
    ) else {
        panic!("a path through two tables parses")
    };
    let lookup = map.columns[1].lookup.as_ref().unwrap();
    assert_eq!(
        (lookup.lookup.as_str(), lookup.via.as_slice(), lookup.key.as_str()),
        ("a", &["b".to_string()][..], "c")
    );
    assert_eq!(lookup.text(), "a.b.c");
    let e = parse_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\nlookup = \"a..c\"\ndirection = \"fo_to_dv\"\n",
    ));
    assert_at(&e, 13, 10, "is not a key path");
    let e = parse_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\nlookup = \"customerid.Account(accountnumber)\"\ndirection = \"fo_to_dv\"\n",
    ));
    assert_at(&e, 13, 10, "is not a key path");
    let e = parse_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\ndv = \"x\"\nlookup = \"a.b\"\ndirection = \"fo_to_dv\"\n",
    ));
    assert_at(&e, 13, 6, "names its Dataverse side once");
}

#[test]
fn bad_literals() {
    let e = parse_error(&with_key(
        "\n[[columns]]\ndv = \"exchangerate\"\ndirection = \"fo_to_dv\"\ndefault = 1979-05-27\n",
    ));
    assert_at(&e, 14, 11, "default is a datetime");
    let e = parse_error(&with_key(
        "\n[[columns]]\ndv = \"exchangerate\"\ndirection = \"fo_to_dv\"\ndefault = 1e3\n",
    ));
    assert_at(&e, 14, 11, "without an exponent");
    let e = parse_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\ndv = \"currencyname\"\ndirection = \"both\"\nvalue_map = {}\n",
    ));
    assert_at(&e, 15, 13, "an empty value map");
}

#[test]
fn not_generated_files_are_listed() {
    let parsed = mapfile::parse(
        "maps/m.toml",
        "# Transcribed from x.\n# not generated: no key\n# A|=|b\n",
    )
    .unwrap();
    assert_eq!(
        parsed,
        Parsed::NotGenerated {
            file: "maps/m.toml".into(),
            reason: "no key".into()
        }
    );
}

#[test]
fn unknown_entity_sets() {
    let errors = generate_errors("name = \"M\"\nfo = \"currencies\"\ndv = \"Transactioncurrency\"\n");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_at(
        &errors[0],
        2,
        6,
        "unknown F&O entity set `currencies`: did you mean `Currencies`?",
    );
    assert_at(
        &errors[1],
        3,
        6,
        "unknown Dataverse entity set `Transactioncurrency`",
    );
    // An entity set of the metadata that `include` leaves out.
    let e = generate_error("name = \"M\"\nfo = \"Currencies\"\ndv = \"systemusers\"\n");
    assert_at(&e, 3, 6, "is not generated: add it to `include`");
}

#[test]
fn unknown_columns() {
    let e = generate_error(&with_key(
        "\n[[columns]]\nfo = \"NAME\"\ndv = \"currencyname\"\ndirection = \"both\"\n",
    ));
    assert_at(
        &e,
        12,
        6,
        "`NAME` is not a column of F&O `Currencies`: did you mean `Name`?",
    );
    let e = generate_error(&with_key(
        "\n[[columns]]\nfo = \"Name\"\ndv = \"currency_name\"\ndirection = \"both\"\n",
    ));
    assert_at(
        &e,
        13,
        6,
        "`currency_name` is not a column of Dataverse `transactioncurrencies`",
    );
    let e = generate_error(&format!("{HEAD}company = \"DataAreaId\"\n"));
    assert_at(&e, 4, 11, "`DataAreaId` is not a column of F&O `Currencies`");
}

const CUSTOMERS: &str = "name = \"M\"\nfo = \"CustomersV3\"\ndv = \"accounts\"\ncompany = \"dataAreaId\"\n\
    \n[[columns]]\nfo = \"CustomerAccount\"\ndv = \"accountnumber\"\ndirection = \"both\"\nkey = true\n";

#[test]
fn lookups() {
    // Lines 11.. follow the key pair.
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesMemo\"\nlookup = \"description.name\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(
        &e,
        14,
        10,
        "`description` is a column of Dataverse `accounts` but not a lookup",
    );
    let e = generate_error(
        "name = \"M\"\nfo = \"Currencies\"\ndv = \"contacts\"\n\n[[columns]]\nfo = \"CurrencyCode\"\ndv = \"firstname\"\ndirection = \"both\"\nkey = true\n\n[[columns]]\nfo = \"Name\"\nlookup = \"parentcustomerid.name\"\ndirection = \"fo_to_dv\"\n",
    );
    assert_at(&e, 13, 10, "points to 2 tables");
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesCurrencyCode\"\nlookup = \"transactioncurrencyid.isocode\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(&e, 14, 10, "`isocode` is not a column of `transactioncurrency`");
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesCurrencyCode\"\nlookup = \"transactioncurrencyid.isocurrencycode\"\ndirection = \"both\"\nlossy = true\n"
    ));
    assert_at(&e, 14, 10, "a lookup takes its key value as it is");
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesCurrencyCode\"\ndv = \"transactioncurrencyid\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(&e, 14, 6, "is a lookup: name the key column of its target table");
    // Through further tables: each step before the key column is a lookup of the table before.
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesCurrencyCode\"\nlookup = \"transactioncurrencyid.isocurrencycode.name\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(
        &e,
        14,
        10,
        "`isocurrencycode` is a column of Dataverse `transactioncurrency` but not a lookup",
    );
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesCurrencyCode\"\nlookup = \"transactioncurrencyid.nolookup.name\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(
        &e,
        14,
        10,
        "`nolookup` is not a lookup of Dataverse `transactioncurrency`",
    );
}

#[test]
fn value_maps() {
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"CreditLimitIsMandatory\"\ndv = \"msdyn_creditlimitismandatory\"\ndirection = \"both\"\nvalue_map = {{ Yes = true, Nope = false }}\n"
    ));
    assert_at(&e, 16, 27, "`Nope` is not a member of `NoYes`");
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"SalesMemo\"\ndv = \"description\"\ndirection = \"both\"\nvalue_map = {{ Yes = \"y\" }}\n"
    ));
    assert_at(
        &e,
        13,
        6,
        "value_map keys are members of an F&O enum, but `SalesMemo` is `Edm.String`",
    );
}

#[test]
fn rules_between_columns() {
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\ndv = \"customertypecode\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(&e, 14, 13, "filled from a default");
    let e = generate_error(&format!(
        "{CUSTOMERS}\n[[columns]]\nfo = \"OrganizationName\"\ndv = \"accountnumber\"\ndirection = \"fo_to_dv\"\n"
    ));
    assert_at(
        &e,
        14,
        6,
        "Dataverse column `accountnumber` is already written by the column pair at maps/m.toml:6",
    );
    let e = generate_error(
        "name = \"M\"\nfo = \"Currencies\"\ndv = \"transactioncurrencies\"\n\n[[columns]]\nfo = \"CurrencyCode\"\ndv = \"isocurrencycode\"\ndirection = \"fo_to_dv\"\nkey = true\n",
    );
    assert_at(&e, 8, 13, "an integration key maps both ways");
}

#[test]
fn two_maps_with_one_name() {
    let a = mapfile::parse("maps/a.toml", HEAD).unwrap();
    let b = mapfile::parse("maps/b.toml", HEAD).unwrap();
    match emit::generate(model(), &options(vec![a, b])) {
        Err(GenerateError::MapFiles(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].file, "maps/b.toml");
            assert!(
                errors[0]
                    .message
                    .contains("also the name of the map in maps/a.toml")
            );
        }
        _ => panic!("expected a map file error"),
    }
}

fn standard_maps() -> Vec<Parsed> {
    mapfile::load_dir(&generated_dir().join("maps"), "maps").unwrap_or_else(|e| panic!("{e}"))
}

fn map_file<'a>(files: &'a [emit::GeneratedFile], name: &str) -> &'a emit::GeneratedFile {
    files
        .iter()
        .find(|f| f.path == Path::new("src/maps").join(name))
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn a_generated_map() {
    let files = emit::generate(model(), &options(standard_maps())).unwrap();
    insta::assert_snapshot!(map_file(&files, "currencies_to_transactioncurrencies.rs").contents);
}

#[test]
fn the_standard_maps_generate() {
    let parsed = standard_maps();
    let maps = parsed.iter().filter(|p| matches!(p, Parsed::Map(_))).count();
    let skipped: Vec<(String, String)> = parsed
        .iter()
        .filter_map(|p| match p {
            Parsed::NotGenerated { file, reason } => Some((file.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    // Every map of the transcription has a file: generated, or skipped with its reason.
    assert_eq!(maps + skipped.len(), 56);
    assert!(maps >= 53, "{maps} maps generate");
    for (file, reason) in &skipped {
        assert!(reason.len() > 20, "{file}: {reason}");
    }
    for must in [
        "currencies_to_transactioncurrencies.rs",
        "customers_v3_to_accounts.rs",
    ] {
        let files = emit::generate(model(), &options(standard_maps())).unwrap();
        assert!(
            map_file(&files, must)
                .contents
                .contains("derive(::dualsync::TableMap)")
        );
    }
    let files = emit::generate(model(), &options(parsed)).unwrap();
    let generated = files.iter().filter(|f| f.path.starts_with("src/maps")).count();
    assert_eq!(generated, maps + 1, "one file per map plus mod.rs");
    let module = map_file(&files, "mod.rs");
    for (file, _) in &skipped {
        assert!(
            module.contents.contains(file.as_str()),
            "{file} not listed in maps/mod.rs"
        );
    }
    // Byte for byte what is committed (CI's `generate --check` says the same for the whole crate).
    for file in files.iter().filter(|f| f.path.starts_with("src/maps")) {
        let committed = std::fs::read_to_string(generated_dir().join(&file.path)).unwrap();
        assert_eq!(committed, file.contents, "{} is stale", file.path.display());
    }
}

#[test]
fn the_cli_points_into_the_map_file() {
    let dir = std::env::temp_dir().join(format!("dualsync-mapfile-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("maps")).unwrap();
    let metadata = generated_dir().join("metadata");
    std::fs::write(
        dir.join("dualsync.toml"),
        format!(
            "[codegen]\nmetadata = [{:?}, {:?}]\nout = \"out\"\ninclude = [\"Currencies\", \"transactioncurrencies\"]\nmaps = \"maps\"\n",
            metadata.join("dataverse-dualwrite.xml"),
            metadata.join("fo-dualwrite.xml")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("maps/currencies.toml"),
        with_key("\n[[columns]]\nfo = \"Nam\"\ndv = \"currencyname\"\ndirection = \"both\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("maps/skipped.toml"), "# not generated: a test\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dualsync-codegen"))
        .args(["generate", "--config"])
        .arg(dir.join("dualsync.toml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("maps/currencies.toml:12:6: `Nam` is not a column of F&O `Currencies`"),
        "{stderr}"
    );
    assert!(stderr.contains("fo = \"Nam\""), "the line is shown: {stderr}");
    assert!(
        stderr.contains("note: maps/skipped.toml is not generated: a test"),
        "{stderr}"
    );
    assert!(!dir.join("out").exists(), "nothing written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The standard maps F&O does not publish over OData keep a whole map below their `not generated`
/// line: it parses, and the dimension groups' maps generate against the F&O entity of the same shape
/// (`TrackingDimensionGroups`), so an org whose F&O publishes them only names the entity set.
#[test]
fn not_generated_standard_maps_are_ready_to_enable() {
    let dir = generated_dir().join("maps");
    let mut ready = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if !text.starts_with("# not generated:") {
            continue;
        }
        let file = format!("maps/{}", entry.file_name().to_string_lossy());
        let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let parsed = mapfile::parse(&file, &body).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let Parsed::Map(map) = &parsed else {
            panic!("{file}: the body is not a map")
        };
        assert!(!map.columns.is_empty(), "{file}");
        if map.fo.value.ends_with("DimensionGroups") {
            let shaped = body.replace(
                &format!("fo = \"{}\"", map.fo.value),
                "fo = \"TrackingDimensionGroups\"",
            );
            let parsed = mapfile::parse(&file, &shaped).unwrap();
            emit::generate(model(), &options(vec![parsed])).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        ready += 1;
    }
    assert_eq!(ready, 3);
}
