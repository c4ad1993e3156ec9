//! Bad input gets a typed error that says what and where; nothing panics.

mod common;

use common::{edmx, first_error};
use dualsync_csdl::ErrorKind;
use dualsync_csdl::model::Model;

fn text_at(xml: &str, e: &dualsync_csdl::Error) -> String {
    xml[e.span.start..e.span.end].to_string()
}

#[test]
fn malformed_xml_points_at_the_problem() {
    let xml = edmx(
        r#"<EntityType Name="A"><Key><PropertyRef Name="Id"/></Key><Property Name="Id" Type="Edm.Int32"></EntityType>"#,
    );
    let e = first_error(&xml);
    assert!(matches!(*e.kind, ErrorKind::Xml(_)), "{e}");
    assert!(e.to_string().contains("Property"), "{e}");
    let (line, _) = e.span.line_col(&xml);
    assert_eq!(line, 5, "{e}");
}

#[test]
fn truncated_document_says_which_element_is_open() {
    let full = String::from_utf8(common::read("odata/TripPin.xml")).unwrap();
    for cut in [full.len() / 3, full.len() / 2, full.len() - 20] {
        let mut at = cut;
        while !full.is_char_boundary(at) {
            at -= 1;
        }
        let e = dualsync_csdl::parse_str(&full[..at]).expect_err("truncated input must fail");
        let message = e.to_string();
        assert!(
            matches!(*e.kind, ErrorKind::UnexpectedEof { .. } | ErrorKind::Xml(_)),
            "cut at {at}: {message}"
        );
        assert!(e.span.end <= at, "span {:?} past the end {at}", e.span);
    }
}

#[test]
fn dangling_type_reference_names_it() {
    let xml = edmx(
        r#"<EntityType Name="A"><Key><PropertyRef Name="Id"/></Key>
        <Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="Kind" Type="d.Kinds"/></EntityType>"#,
    );
    let e = first_error(&xml);
    match &*e.kind {
        ErrorKind::DanglingType { name, context, hint } => {
            assert_eq!(name, "d.Kinds");
            assert!(context.contains("property `Kind` of `Demo.A`"), "{context}");
            assert!(hint.contains("Demo.Kinds"), "{hint}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(text_at(&xml, &e).contains(r#"Name="Kind""#));
}

#[test]
fn dangling_type_suggests_a_near_name() {
    let xml = edmx(
        r#"<EnumType Name="Kinds"><Member Name="A"/></EnumType>
        <EntityType Name="A"><Key><PropertyRef Name="Id"/></Key>
        <Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="Kind" Type="Demo.kinds"/></EntityType>"#,
    );
    let e = first_error(&xml);
    assert!(e.to_string().contains("did you mean `Demo.Kinds`"), "{e}");
}

#[test]
fn unknown_and_legacy_primitive_types() {
    let e = first_error(&edmx(
        r#"<ComplexType Name="C"><Property Name="When" Type="Edm.DateTime"/></ComplexType>"#,
    ));
    assert!(matches!(&*e.kind, ErrorKind::UnknownPrimitive { name, .. } if name == "Edm.DateTime"));
    assert!(e.to_string().contains("Edm.DateTimeOffset"), "{e}");
}

#[test]
fn duplicate_names_point_at_both() {
    let xml = edmx(
        r#"<EntityType Name="A"><Key><PropertyRef Name="Id"/></Key>
        <Property Name="Id" Type="Edm.Int32" Nullable="false"/>
        <Property Name="Id" Type="Edm.String"/></EntityType>"#,
    );
    let e = first_error(&xml);
    assert!(
        matches!(&*e.kind, ErrorKind::Duplicate { name, .. } if name == "Demo.A/Id"),
        "{e}"
    );
    let related = e.related.as_deref().expect("first definition");
    assert!(xml[related.2.start..related.2.end].contains("Edm.Int32"));

    let e = first_error(&edmx(
        r#"<ComplexType Name="A"/><EnumType Name="A"><Member Name="X"/></EnumType>"#,
    ));
    assert!(
        matches!(&*e.kind, ErrorKind::Duplicate { name, .. } if name == "Demo.A"),
        "{e}"
    );
}

#[test]
fn element_in_the_wrong_place() {
    let xml = edmx(r#"<EntityType Name="A"><EntitySet Name="As" EntityType="Demo.A"/></EntityType>"#);
    let e = first_error(&xml);
    match &*e.kind {
        ErrorKind::UnexpectedElement {
            element,
            parent,
            hint,
        } => {
            assert_eq!(element, "EntitySet");
            assert_eq!(parent, "EntityType");
            assert!(hint.contains("Property"), "{hint}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_and_invalid_attributes() {
    let e = first_error(&edmx(r#"<EntityType><Key/></EntityType>"#));
    assert!(
        matches!(
            &*e.kind,
            ErrorKind::MissingAttribute {
                attribute: "Name",
                ..
            }
        ),
        "{e}"
    );
    let xml = edmx(
        r#"<ComplexType Name="C"><Property Name="P" Type="Edm.String" MaxLength="lots"/></ComplexType>"#,
    );
    let e = first_error(&xml);
    assert!(matches!(&*e.kind, ErrorKind::InvalidAttribute { .. }), "{e}");
    assert_eq!(text_at(&xml, &e), "lots");
}

#[test]
fn key_naming_a_missing_property() {
    let e = first_error(&edmx(
        r#"<EntityType Name="A"><Key><PropertyRef Name="Nope"/></Key><Property Name="Id" Type="Edm.Int32"/></EntityType>"#,
    ));
    assert!(
        matches!(&*e.kind, ErrorKind::UnknownKeyProperty { property, .. } if property == "Nope"),
        "{e}"
    );
}

#[test]
fn cyclic_base_types_do_not_hang() {
    let e = first_error(&edmx(
        r#"<EntityType Name="A" BaseType="Demo.B"/><EntityType Name="B" BaseType="d.A"/>"#,
    ));
    assert!(matches!(&*e.kind, ErrorKind::CyclicBaseType { .. }), "{e}");
}

#[test]
fn every_resolution_error_is_reported_not_just_the_first() {
    let document = dualsync_csdl::parse_str(&edmx(
        r#"<ComplexType Name="C"><Property Name="A" Type="Demo.Missing1"/><Property Name="B" Type="Demo.Missing2"/></ComplexType>"#,
    ))
    .unwrap();
    let errors = Model::resolve(vec![document]).unwrap_err();
    assert_eq!(errors.0.len(), 2);
}

#[test]
fn odata_v2_and_v3_are_refused_with_a_reason() {
    for (file, version) in [
        ("odata/oasis-odata-rw-v2.xml", "v2.0"),
        ("odata/oasis-odata-rw-v3.xml", "v3.0"),
    ] {
        let e = dualsync_csdl::parse_bytes(&common::read(file)).unwrap_err();
        match &*e.kind {
            ErrorKind::UnsupportedVersion { odata_version, .. } => {
                assert_eq!(odata_version, version)
            }
            other => panic!("{file}: {other:?}"),
        }
        assert!(e.to_string().contains("OData v4"), "{e}");
    }
}

#[test]
fn not_edmx_and_not_utf8() {
    let e = dualsync_csdl::parse_str("<html><body/></html>").unwrap_err();
    assert!(matches!(&*e.kind, ErrorKind::NotEdmx { .. }), "{e}");
    let e = dualsync_csdl::parse_bytes(&[0xFF, 0xFE, b'<', 0]).unwrap_err();
    assert!(matches!(&*e.kind, ErrorKind::Encoding(_)), "{e}");
    let mut bytes = edmx("").into_bytes();
    bytes[60] = 0xC3;
    bytes[61] = 0x28;
    let e = dualsync_csdl::parse_bytes(&bytes).unwrap_err();
    assert!(matches!(&*e.kind, ErrorKind::Encoding(_)), "{e}");
    assert_eq!(e.span.start, 60);
    let e = dualsync_csdl::parse_str("").unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn undeclared_prefix_is_an_error() {
    let e =
        dualsync_csdl::parse_str(r#"<edmx:Edmx Version="4.0"><edmx:DataServices/></edmx:Edmx>"#).unwrap_err();
    assert!(e.to_string().contains("prefix `edmx`"), "{e}");
}

#[test]
fn dtd_entities_are_never_expanded() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="D" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<Term Name="T" Type="Edm.String"><Annotation Term="Core.Description"><String>&lol2;</String></Annotation></Term>
</Schema></edmx:DataServices></edmx:Edmx>"#;
    let e = dualsync_csdl::parse_str(xml).unwrap_err();
    assert!(e.to_string().contains("undeclared entity `&lol2;`"), "{e}");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 100_000;
    let xml = format!(
        "{}{}{}",
        edmx("<Term Name=\"T\" Type=\"Edm.String\"><Annotation Term=\"X.Y\">")
            .split("</Schema>")
            .next()
            .unwrap(),
        "<Collection>".repeat(depth),
        "</Collection>".repeat(depth)
    );
    let e = dualsync_csdl::parse_str(&xml).unwrap_err();
    assert!(e.to_string().contains("deeper than"), "{e}");
}

#[test]
fn byte_order_mark_keeps_spans_right() {
    let xml = format!(
        "\u{feff}{}",
        edmx(r#"<ComplexType Name="C"><Property Name="P" Type="Demo.Nope"/></ComplexType>"#)
    );
    let e = first_error(&xml);
    assert!(
        xml[e.span.start..e.span.end].starts_with("<Property"),
        "{:?}",
        &xml[e.span.start..e.span.end]
    );
}

#[test]
fn trimmed_fo_documents_warn_about_missing_binding_targets() {
    let model = common::model_of("fo/captured/sales_trimmed_metadata.xml");
    let dangling = model
        .warnings
        .iter()
        .filter(|w| w.message.contains("NavigationPropertyBinding"))
        .count();
    assert!(dangling > 0);
    assert!(model.warnings.iter().all(|w| w.span.end > w.span.start));
}

#[test]
fn a_mutated_real_document_names_the_broken_reference() {
    let mut xml = String::from_utf8(common::read("dataverse/crm_schema.xml")).unwrap();
    let at = xml.find(r#"Type="mscrm.account""#).unwrap();
    xml.replace_range(at..at + r#"Type="mscrm.account""#.len(), r#"Type="mscrm.acount""#);
    let e = first_error(&xml);
    assert!(
        matches!(&*e.kind, ErrorKind::DanglingType { name, .. } if name == "mscrm.acount"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("did you mean `Microsoft.Dynamics.CRM.account`"),
        "{e}"
    );
    assert!(xml[e.span.start..e.span.end].contains("mscrm.acount"));

    // An element moved where it does not belong.
    let mut xml = String::from_utf8(common::read("fo/fo-dualwrite-core.xml")).unwrap();
    let at = xml.find("<Key>").unwrap();
    xml.insert_str(
        at,
        r#"<EntitySet Name="X" EntityType="Microsoft.Dynamics.DataEntities.CustomerV3"/>"#,
    );
    let e = first_error(&xml);
    assert!(
        matches!(&*e.kind, ErrorKind::UnexpectedElement { element, .. } if element == "EntitySet"),
        "{e}"
    );
    assert_eq!(e.span.start, at);
}

/// Resolves `xml`, returning every error.
fn all_errors(xml: &str) -> Vec<dualsync_csdl::Error> {
    let document = dualsync_csdl::parse_str(xml).unwrap_or_else(|e| panic!("{e}"));
    match Model::resolve(vec![document]) {
        Err(errors) => errors.0,
        Ok(_) => Vec::new(),
    }
}

#[test]
fn enum_member_values_must_fit_the_underlying_type() {
    for (underlying, bad, good) in [
        ("Edm.Byte", "300", "255"),
        ("Edm.Byte", "-1", "0"),
        ("Edm.SByte", "-129", "-128"),
        ("Edm.SByte", "128", "127"),
        ("Edm.Int16", "40000", "32767"),
        ("Edm.Int32", "2147483648", "-2147483648"),
    ] {
        let xml = edmx(&format!(
            "<EnumType Name=\"E\" UnderlyingType=\"{underlying}\">\n<Member Name=\"Ok\" Value=\"{good}\"/>\n<Member Name=\"Big\" Value=\"{bad}\"/></EnumType>"
        ));
        let errors = all_errors(&xml);
        assert_eq!(errors.len(), 1, "{underlying} {bad}: {errors:?}");
        let e = &errors[0];
        let message = e.to_string();
        assert!(matches!(*e.kind, ErrorKind::InvalidAttribute { .. }), "{message}");
        assert!(message.contains(&format!("Value=\"{bad}\"")), "{message}");
        assert!(
            message.contains("Big") && message.contains(underlying),
            "{message}"
        );
        assert!(text_at(&xml, e).contains(r#"Name="Big""#), "{message}");
        assert_eq!(e.span.line_col(&xml).0, 7, "{message}");
    }
    // An implied value (previous + 1) past the range.
    let xml = edmx(
        r#"<EnumType Name="E" UnderlyingType="Edm.Byte"><Member Name="A" Value="255"/><Member Name="B"/></EnumType>"#,
    );
    let errors = all_errors(&xml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("256 (implied"), "{}", errors[0]);
    let xml = edmx(
        r#"<EnumType Name="E" UnderlyingType="Edm.Int64"><Member Name="A" Value="9223372036854775807"/><Member Name="B"/></EnumType>"#,
    );
    let errors = all_errors(&xml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("Edm.Int64"), "{}", errors[0]);
    // Values that are not integers at all.
    for bad in ["abc", "1.5", "99999999999999999999"] {
        let xml = edmx(&format!(
            r#"<EnumType Name="E"><Member Name="A" Value="{bad}"/></EnumType>"#
        ));
        let e = first_error(&xml);
        assert!(e.to_string().contains(&format!("Value=\"{bad}\"")), "{e}");
    }
    // Int32 is the default underlying type.
    let xml = edmx(r#"<EnumType Name="E"><Member Name="A" Value="3000000000"/></EnumType>"#);
    assert!(first_error(&xml).to_string().contains("Edm.Int32"));
}

#[test]
fn scale_greater_than_precision_is_an_error_at_the_attribute() {
    let xml = edmx(
        "<ComplexType Name=\"C\">\n<Property Name=\"Amount\" Type=\"Edm.Decimal\" Precision=\"5\" Scale=\"8\"/></ComplexType>",
    );
    let e = first_error(&xml);
    let message = e.to_string();
    assert!(matches!(*e.kind, ErrorKind::InvalidAttribute { .. }), "{message}");
    assert!(
        message.contains(r#"Scale="8""#) && message.contains("Precision"),
        "{message}"
    );
    assert_eq!(text_at(&xml, &e), "8", "the span is the attribute value");
    assert_eq!(e.span.line_col(&xml).0, 6, "{message}");
    for element in [
        r#"<TypeDefinition Name="T" UnderlyingType="Edm.Decimal" Precision="2" Scale="3"/>"#,
        r#"<Function Name="F"><Parameter Name="P" Type="Edm.Decimal" Precision="2" Scale="3"/><ReturnType Type="Edm.Int32"/></Function>"#,
        r#"<Function Name="F"><ReturnType Type="Edm.Decimal" Precision="2" Scale="3"/></Function>"#,
        r#"<Term Name="T" Type="Edm.Decimal" Precision="2" Scale="3"/>"#,
    ] {
        let e = first_error(&edmx(element));
        assert!(e.to_string().contains(r#"Scale="3""#), "{element}: {e}");
    }
    // Equal is fine, and so are variable and floating scales.
    for ok in [
        r#"Precision="5" Scale="5""#,
        r#"Precision="5" Scale="variable""#,
        r#"Scale="8""#,
    ] {
        let xml = edmx(&format!(
            r#"<ComplexType Name="C"><Property Name="Amount" Type="Edm.Decimal" {ok}/></ComplexType>"#
        ));
        assert!(all_errors(&xml).is_empty(), "{ok}");
    }
}
