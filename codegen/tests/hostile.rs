//! Metadata from a server the user points at is hostile: names, labels and descriptions may hold any
//! character, types may contain themselves, chains may be absurdly deep, names absurdly long. The
//! generator either writes code that compiles or says why it cannot; `write` never damages an output
//! folder. The code of every hostile document here is compiled in one `cargo check --offline` run.

mod common;

use std::path::{Path, PathBuf};

use dualsync_codegen::csdl;
use dualsync_codegen::emit::{self, GenerateError, GeneratedFile, Options};
use dualsync_codegen::model::Model;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A temporary folder of this test binary, removed first.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// An EDMX document of several schemas: (namespace, body).
fn document(schemas: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>"#,
    );
    for (namespace, body) in schemas {
        xml.push_str(&format!(
            "\n<Schema Namespace=\"{namespace}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n{body}\n</Schema>"
        ));
    }
    xml.push_str("\n</edmx:DataServices></edmx:Edmx>");
    xml
}

fn model(xml: &str) -> Model {
    Model::resolve(vec![csdl::parse_str(xml).unwrap_or_else(|e| panic!("{e}"))])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn entity(name: &str, extra: &str) -> String {
    format!(
        r#"<EntityType Name="{name}"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32" Nullable="false"/>{extra}</EntityType>"#
    )
}

fn file<'f>(files: &'f [GeneratedFile], suffix: &str) -> &'f GeneratedFile {
    files
        .iter()
        .find(|f| f.path.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| {
            panic!(
                "no {suffix} in {:?}",
                files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
}

/// Recursive types: a complex type containing itself, two containing each other, one through its base
/// type, an entity containing itself, a complex type holding an entity.
fn recursive_schema() -> (&'static str, String) {
    let body = format!(
        r#"<ComplexType Name="Node"><Property Name="Next" Type="Rec.Node"/><Property Name="Children" Type="Collection(Rec.Node)"/><Property Name="Label" Type="Edm.String"/></ComplexType>
<ComplexType Name="C1"><Property Name="Other" Type="Rec.C2" Nullable="false"/></ComplexType>
<ComplexType Name="C2"><Property Name="Back" Type="Rec.C1"/></ComplexType>
<ComplexType Name="Base"><Property Name="Derived" Type="Rec.Derived"/></ComplexType>
<ComplexType Name="Derived" BaseType="Rec.Base"><Property Name="Extra" Type="Edm.Int32"/></ComplexType>
<ComplexType Name="Holder"><Property Name="Owner" Type="Rec.Person"/></ComplexType>
{}
{}"#,
        entity(
            "Person",
            r#"<Property Name="Self" Type="Rec.Person"/><Property Name="Tree" Type="Rec.Node"/><Property Name="Pair" Type="Rec.C1"/><Property Name="Sub" Type="Rec.Derived"/><Property Name="Holder" Type="Rec.Holder"/>"#
        ),
        entity(
            "Other",
            r#"<Property Name="Pair" Type="Rec.C2" Nullable="false"/>"#
        ),
    );
    ("Rec", body)
}

/// Names and descriptions with bidi controls, line breaks and quotes; non-ASCII identifiers.
fn unicode_schemas() -> Vec<(&'static str, String)> {
    let description =
        |text: &str| format!(r#"<Annotation Term="Org.OData.Core.V1.Description" String="{text}"/>"#);
    let bidi = format!(
        "{}\n<EnumType Name=\"Mode&#x202E;\" UnderlyingType=\"Edm.Byte\"><Member Name=\"A&#x2066;B\" Value=\"1\">{}</Member><Member Name=\"Ä\" Value=\"2\"/></EnumType>",
        entity(
            "Evil&#x202E;Name",
            &format!(
                "{}<Property Name=\"x&#x202E;y\" Type=\"Edm.String\">{}</Property><Property Name=\"line&#10;break&#13;\" Type=\"Edm.String\"/><Property Name=\"quote&quot;back\\slash\" Type=\"Edm.String\"/><Property Name=\"mode\" Type=\"Bidi.Mode&#x202E;\"/><Property Name=\"&#x200F;&#x061C;&#x200E;\" Type=\"Edm.String\"/>",
                description(
                    "desc &#x202E; &#x2066; &#x2067; &#x2068; &#x2069; &#x202A; &#x202B; &#x202C; &#x202D; &#x200E; &#x200F; &#x061C; and &#27;[31m ANSI"
                ),
                description("reversed &#x202E;txet"),
            )
        ),
        description("member &#x2066;isolate"),
    );
    let unicode = format!(
        "{}\n<EnumType Name=\"Farbe\"><Member Name=\"Grün\"/><Member Name=\"日本\"/><Member Name=\"Ä\"/></EnumType>\n<ComplexType Name=\"Adresse日本\"><Property Name=\"Straße\" Type=\"Edm.String\"/><Property Name=\"İstanbul\" Type=\"Edm.String\"/></ComplexType>",
        entity(
            "Kunde",
            r#"<Property Name="Ä" Type="Edm.String"/><Property Name="日本" Type="Edm.String"/><Property Name="Größe" Type="Edm.Int32"/><Property Name="farbe" Type="Ü.日本.Farbe"/><Property Name="adresse" Type="Ü.日本.Adresse日本"/><Property Name="e&#x301;" Type="Edm.String"/><Property Name="é" Type="Edm.String"/><Property Name="ǰ" Type="Edm.String"/>"#,
        ),
    );
    vec![("Bidi", bidi), ("Ü.日本", unicode), ("Other.Ä", entity("Ä", ""))]
}

/// Namespaces whose last segment is a file Rust or Windows treats specially.
fn reserved_schemas() -> Vec<(&'static str, String)> {
    vec![
        (
            "Test.lib",
            entity("Lib", "") + &entity("Mod", "") + &entity("Main", ""),
        ),
        ("Test.main", entity("Con", "") + &entity("Nul", "")),
        ("Test.mod", entity("Self", "")),
        ("Test.self", entity("Crate", "")),
    ]
}

fn long_schema() -> (&'static str, String) {
    (
        "Long",
        entity(&format!("E{}", "x".repeat(2000)), "") + &entity(&format!("E{}y", "x".repeat(2000)), ""),
    )
}

/// Runs `cargo check --offline` on a generated crate (standalone, with the workspace's lock file).
fn cargo_check(dir: &Path) -> Result<(), String> {
    let manifest = dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("\n[workspace]\n");
    std::fs::write(&manifest, text).unwrap();
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["check", "--offline", "--quiet"])
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-check"),
        )
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr)
            .lines()
            .take(120)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

#[test]
fn hostile_documents_generate_code_that_compiles() {
    let mut schemas: Vec<(&str, String)> = vec![recursive_schema(), long_schema()];
    schemas.extend(unicode_schemas());
    schemas.extend(reserved_schemas());
    let borrowed: Vec<(&str, &str)> = schemas.iter().map(|(n, b)| (*n, b.as_str())).collect();
    let xml = document(&borrowed);
    let model = model(&xml);
    let options = Options {
        crate_name: Some("hostile-bindings".into()),
        runtime_path: Some(workspace().join("runtime").display().to_string()),
        // The e + U+0301 and é fields are distinct names; rustc would merge them if both were kept.
        ..Options::default()
    };
    let files = emit::generate(&model, &options).unwrap_or_else(|e| panic!("{e}"));
    let all: String = files.iter().map(|f| f.contents.as_str()).collect();

    // 1. Recursion is boxed, collections are not, entities as property types are JSON.
    let node = &file(&files, "rec/complex/node.rs").contents;
    assert!(
        node.contains("pub next: ::core::option::Option<::std::boxed::Box<super::Node>>"),
        "{node}"
    );
    assert!(
        node.contains("pub children: ::core::option::Option<::std::vec::Vec<super::Node>>"),
        "{node}"
    );
    // `Box<T>` is OData JSON through the runtime's own impl: the generated file adds none.
    assert!(!node.contains("for ::std::boxed::Box<Node>"), "{node}");
    let c1 = &file(&files, "rec/complex/c1.rs").contents;
    assert!(c1.contains("pub other: ::std::boxed::Box<super::C2>"), "{c1}");
    let derived = &file(&files, "rec/complex/derived.rs").contents;
    assert!(
        derived.contains("pub derived: ::core::option::Option<::std::boxed::Box<super::Derived>>"),
        "inherited recursion: {derived}"
    );
    let person = &file(&files, "rec/person.rs").contents;
    assert!(
        person.contains("pub self_: ::core::option::Option<::dualsync::edm::Json>"),
        "{person}"
    );
    assert!(
        !person.contains("Box<"),
        "an entity's fields need no box: {person}"
    );

    // 2. Reserved module names.
    for path in [
        "src/lib_/mod.rs",
        "src/main_/mod.rs",
        "src/mod_/mod.rs",
        "src/self_/mod.rs",
        "src/lib_/lib_.rs",
        "src/lib_/mod_.rs",
        "src/main_/con_.rs",
        "src/main_/nul_.rs",
    ] {
        file(&files, path);
    }

    // 3. Bidi controls never reach a doc comment or a literal raw.
    for c in [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{1b}',
    ] {
        assert!(!all.contains(c), "raw {c:?} in generated code");
    }
    assert!(
        all.contains(r"desc \u{202E} \u{2066}"),
        "docs keep the characters visibly"
    );

    // 4. Unicode identifiers are kept; inexpressible characters escaped; modules ASCII and distinct.
    let kunde = &file(&files, "u65e5_u672c/kunde.rs").contents;
    for expected in ["pub ä:", "pub 日本:", "pub größe:", "pub e_u301:", "pub é:"] {
        assert!(kunde.contains(expected), "missing {expected}: {kunde}");
    }
    let farbe = &file(&files, "u65e5_u672c/enums/farbe.rs").contents;
    assert!(
        farbe.contains("Grün,") && farbe.contains("日本,") && farbe.contains("Ä,"),
        "{farbe}"
    );
    file(
        &files,
        "u65e5_u672c/complex/adresse日本.rs"
            .replace("日本", "_u65e5_u672c")
            .as_str(),
    );
    file(&files, "src/uc4/uc4.rs");
    let evil = files
        .iter()
        .find(|f| f.contents.contains("pub struct EvilU202eName"))
        .expect("escaped type name");
    assert!(evil.contents.contains("pub x_u202e_y:"), "{}", evil.contents);

    // 6. Long names get capped, distinct file names.
    let long: Vec<&GeneratedFile> = files
        .iter()
        .filter(|f| f.path.starts_with("src/long") && !f.path.ends_with("mod.rs"))
        .collect();
    assert_eq!(long.len(), 2);
    assert_ne!(long[0].path, long[1].path);
    for f in &long {
        assert!(f.path.file_name().unwrap().len() <= 200, "{}", f.path.display());
    }

    let dir = scratch("crate");
    let report = emit::write(&dir, &files).unwrap();
    assert_eq!(report.written.len(), files.len());
    if let Err(stderr) = cargo_check(&dir) {
        panic!("cargo check of the hostile documents' code failed:\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn namespaces_are_never_merged_into_one_module() {
    let xml = document(&[
        ("A.Models", &entity("Alpha", "")),
        ("B.Models", &entity("Beta", "")),
    ]);
    let Err(GenerateError::Collisions(collisions)) = emit::generate(&model(&xml), &Options::default()) else {
        panic!("two namespaces with one module must collide");
    };
    let message = collisions[0].to_string();
    assert!(message.contains("module `models`"), "{message}");
    assert!(
        message.contains("A.Models") && message.contains("B.Models"),
        "{message}"
    );
    assert!(
        message.contains("[codegen.services]\n\"B.Models\" = \"models2\""),
        "{message}"
    );
    let options = Options {
        services: [("B.Models".to_string(), "models_b".to_string())].into(),
        ..Options::default()
    };
    let files = emit::generate(&model(&xml), &options).unwrap();
    file(&files, "models/alpha.rs");
    file(&files, "models_b/beta.rs");

    // Names that differ only in characters Rust cannot use stay apart.
    let xml = document(&[("X.日本", &entity("T", "")), ("Y.Ä", &entity("U", ""))]);
    let files = emit::generate(&model(&xml), &Options::default()).unwrap();
    file(&files, "u65e5_u672c/t.rs");
    file(&files, "uc4/u.rs");
}

#[test]
fn absurd_inheritance_depth_is_refused_with_the_type_and_depth() {
    let mut body = entity("T0", "");
    for i in 1..=1000 {
        body.push_str(&format!(
            r#"<EntityType Name="T{i}" BaseType="Deep.T{}"><Property Name="P{i}" Type="Edm.String"/></EntityType>"#,
            i - 1
        ));
    }
    let model = model(&document(&[("Deep", &body)]));
    let started = std::time::Instant::now();
    let error = emit::generate(&model, &Options::default()).unwrap_err();
    assert!(started.elapsed().as_secs() < 10);
    let message = error.to_string();
    assert!(matches!(error, GenerateError::TooDeep { .. }), "{message}");
    assert!(
        message.contains("`Deep.T") && message.contains("levels of base types"),
        "{message}"
    );
    assert!(message.contains("at most 32"), "{message}");

    // 32 levels are fine; so is selecting only shallow types.
    let options = Options {
        include: vec!["Deep.T32".into(), "Deep.T5".into()],
        ..Options::default()
    };
    let files = emit::generate(&model, &options).unwrap();
    assert!(file(&files, "deep/t32.rs").contents.contains("pub p32:"));
    let options = Options {
        include: vec!["Deep.T33".into()],
        ..Options::default()
    };
    let message = emit::generate(&model, &options).unwrap_err().to_string();
    assert!(message.contains("`Deep.T33` has 33 levels"), "{message}");
}

fn small_files() -> Vec<GeneratedFile> {
    let xml = document(&[("Small", &(entity("A", "") + &entity("B", "")))]);
    let options = Options {
        crate_name: Some("small".into()),
        runtime_path: Some("../runtime".into()),
        ..Options::default()
    };
    emit::generate(&model(&xml), &options).unwrap()
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            if path.to_string_lossy().contains("dualsync-tmp") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_failed_write_leaves_the_previous_output_and_no_temporary_files() {
    let dir = scratch("atomic");
    let first = small_files();
    emit::write(&dir, &first).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = first
        .iter()
        .map(|f| (f.path.clone(), std::fs::read(dir.join(&f.path)).unwrap()))
        .collect();
    // Every file changes; the last one cannot be written (a folder sits where its temporary goes).
    let second: Vec<GeneratedFile> = first
        .iter()
        .map(|f| GeneratedFile {
            path: f.path.clone(),
            contents: f.contents.replace("Entity type", "Entity type (changed)") + "// changed\n",
        })
        .collect();
    let victim = dir.join("src/small/b.rs");
    let blocker = victim.with_file_name(".b.rs.dualsync-tmp");
    std::fs::create_dir_all(blocker.join("x")).unwrap();
    let error = emit::write(&dir, &second).unwrap_err();
    assert!(error.to_string().contains("b.rs"), "{error}");
    for (path, bytes) in &before {
        assert_eq!(
            &std::fs::read(dir.join(path)).unwrap(),
            bytes,
            "{} changed",
            path.display()
        );
    }
    std::fs::remove_dir_all(&blocker).unwrap();
    assert_eq!(temporaries(&dir), Vec::<PathBuf>::new());
    assert!(!dir.join(emit::LOCK_FILE).exists(), "the lock is released");
    emit::write(&dir, &second).unwrap();
    assert!(emit::check(&dir, &second).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_name_too_long_fails_before_anything_is_written() {
    let dir = scratch("long-name");
    let mut files = small_files();
    files.push(GeneratedFile {
        path: PathBuf::from("src/small").join(format!("{}.rs", "x".repeat(300))),
        contents: emit::text::HEADER.to_string(),
    });
    let error = emit::write(&dir, &files).unwrap_err();
    assert!(error.to_string().contains("file name"), "{error}");
    assert!(!dir.join("Cargo.toml").exists());
    assert!(!dir.join("src/lib.rs").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_dualsync_did_not_write_are_never_overwritten_or_removed() {
    let files = small_files();
    for (hand_written, contents) in [
        ("Cargo.toml", "[package]\nname = \"mine\"\n"),
        ("src/lib.rs", "pub fn mine() {}\n"),
        ("README.md", "# Mine\n"),
        ("src/small/a.rs", "// my own file\n"),
    ] {
        let dir = scratch("foreign");
        std::fs::create_dir_all(dir.join("src/small")).unwrap();
        std::fs::write(dir.join(hand_written), contents).unwrap();
        let error = emit::write(&dir, &files).unwrap_err().to_string();
        assert!(error.contains(hand_written), "{hand_written}: {error}");
        assert!(error.contains("did not write"), "{error}");
        assert_eq!(std::fs::read_to_string(dir.join(hand_written)).unwrap(), contents);
        assert!(
            !dir.join("src/small/b.rs").exists() || hand_written == "src/small/b.rs",
            "nothing written before the refusal"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Generated files are recognised by their marker, also Cargo.toml and README.md.
    let dir = scratch("own");
    emit::write(&dir, &files).unwrap();
    for name in ["Cargo.toml", "README.md", "src/lib.rs"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.lines().next().unwrap().contains(emit::MARKER), "{name}");
    }
    // A copy of a generated file outside the generated layout is not removed.
    std::fs::create_dir_all(dir.join("src/notes/deeper")).unwrap();
    let copy = dir.join("src/notes/deeper/copy.rs");
    std::fs::write(&copy, emit::text::HEADER).unwrap();
    let report = emit::write(&dir, &files).unwrap();
    assert!(report.removed.is_empty(), "{report:?}");
    assert!(copy.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_writer_waits_for_the_lock_or_fails_clearly() {
    let dir = scratch("lock");
    std::fs::create_dir_all(&dir).unwrap();
    let files = small_files();
    let lock = std::fs::File::create(dir.join(emit::LOCK_FILE)).unwrap();
    lock.lock().unwrap();
    let started = std::time::Instant::now();
    let error = emit::write(&dir, &files).unwrap_err().to_string();
    assert!(started.elapsed() >= emit::LOCK_WAIT, "it waits a little first");
    assert!(
        error.contains("another `dualsync-codegen generate` is writing"),
        "{error}"
    );
    assert!(!dir.join("Cargo.toml").exists());
    lock.unlock().unwrap();
    drop(lock);
    emit::write(&dir, &files).unwrap();
    assert!(
        !dir.join(emit::LOCK_FILE).exists(),
        "the lock file is removed at the end"
    );

    // Two writers at once: one waits for the other; the folder ends up as one of them wrote it.
    let dir = scratch("race");
    let other: Vec<GeneratedFile> = files
        .iter()
        .map(|f| GeneratedFile {
            path: f.path.clone(),
            contents: f.contents.clone() + "// other\n",
        })
        .collect();
    for _ in 0..5 {
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| emit::write(&dir, &files));
            let b = scope.spawn(|| emit::write(&dir, &other));
            (a.join().unwrap(), b.join().unwrap())
        });
        a.unwrap();
        b.unwrap();
        assert!(
            emit::check(&dir, &files).is_empty() || emit::check(&dir, &other).is_empty(),
            "a mix of two runs"
        );
        assert!(!dir.join(emit::LOCK_FILE).exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
