//! Golden tests: the resolved model of small real documents, as an outline, snapshotted with insta.

mod common;

use common::model_of;

fn outline(relative: &str) -> String {
    model_of(relative).outline()
}

#[test]
fn trippin() {
    insta::assert_snapshot!(outline("odata/TripPin.xml"));
}

#[test]
fn northwind_with_alternate_keys() {
    insta::assert_snapshot!(outline("odata/Northwind4WithAlternateKeys.xml"));
}

#[test]
fn oasis_key_aliases() {
    insta::assert_snapshot!(outline("odata/oasis-key-aliases.xml"));
}

#[test]
fn oasis_keys_v4_01() {
    insta::assert_snapshot!(outline("odata/oasis-keys-v4.01.xml"));
}

#[test]
fn oasis_containment() {
    insta::assert_snapshot!(outline("odata/oasis-containment.xml"));
}

#[test]
fn oasis_csdl_16_1() {
    insta::assert_snapshot!(outline("odata/oasis-csdl-16.1.xml"));
}

#[test]
fn dataverse_abstract_activity_types() {
    insta::assert_snapshot!(outline("odata/ActionWithDerivedType.xml"));
}

#[test]
fn open_types() {
    insta::assert_snapshot!(outline("odata/OpenTypes.xml"));
}

#[test]
fn odatanet_default_service() {
    insta::assert_snapshot!(outline("odata/odatanet-DefaultService.xml"));
}

#[test]
fn fo_trimmed_capture() {
    insta::assert_snapshot!(outline("fo/captured/old-tests-trimmed_metadata_100.xml"));
}

#[test]
fn documents_resolved_together_see_each_others_types() {
    // oasis-People.xml references ProductService from ./Products.xml, which references PeopleService back.
    let people = dualsync_csdl::parse_bytes(&common::read("odata/oasis-People.xml")).unwrap();
    let products = dualsync_csdl::parse_bytes(&common::read("odata/oasis-Products.xml")).unwrap();
    let model = dualsync_csdl::model::Model::resolve(vec![people, products]).unwrap();
    assert!(
        model
            .external_namespaces
            .iter()
            .all(|n| n.starts_with("Org.OData")),
        "{:?}",
        model.external_namespaces
    );
    let supplier = &model.entity_types["PeopleService.Supplier"];
    let products_nav = supplier
        .navigation_properties
        .iter()
        .find(|n| n.name == "Products")
        .unwrap();
    assert_eq!(products_nav.target, "ProductService.Product");
    insta::assert_snapshot!(model.outline());
}
