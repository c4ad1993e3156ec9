//! Helpers shared by the reader's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use dualsync_csdl::Model;

/// The repository's copy of the metadata corpus.
pub fn corpus(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(relative)
}

pub fn read(relative: &str) -> Vec<u8> {
    std::fs::read(corpus(relative)).unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

pub fn model_of(relative: &str) -> Model {
    let document = dualsync_csdl::parse_bytes(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    Model::resolve(vec![document]).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Parse and resolve text, returning the first error.
pub fn first_error(xml: &str) -> dualsync_csdl::Error {
    match dualsync_csdl::parse_str(xml) {
        Err(e) => e,
        Ok(document) => match Model::resolve(vec![document]) {
            Err(errors) => errors.0.into_iter().next().expect("at least one error"),
            Ok(_) => panic!("expected an error for:\n{xml}"),
        },
    }
}

/// Parse and resolve text that must be accepted.
pub fn model_of_str(xml: &str) -> Model {
    let document = dualsync_csdl::parse_str(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    Model::resolve(vec![document]).unwrap_or_else(|e| panic!("{e:?}\n{xml}"))
}

/// A minimal EDMX 4.0 document around schema content.
pub fn edmx(schema_body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="Demo" Alias="d" xmlns="http://docs.oasis-open.org/odata/ns/edm">
{schema_body}
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"#
    )
}
