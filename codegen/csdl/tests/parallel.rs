//! Large documents are read on two threads; the result must be exactly what a sequential read gives,
//! and any document the split cannot handle must still read correctly (or fail with the same error).

/// An F&O-shaped document of `entities` entity types (> 2 MiB for a few thousand), with a second schema.
fn big_document(entities: usize, extra_between: &str) -> String {
    let mut xml = String::from(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices><Schema Namespace=\"Microsoft.Dynamics.DataEntities\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">",
    );
    xml.push_str("<EnumType Name=\"NoYes\"><Member Name=\"No\" Value=\"0\"/><Member Name=\"Yes\" Value=\"1\"/></EnumType>");
    for i in 0..entities {
        if i == entities / 2 {
            xml.push_str(extra_between);
        }
        xml.push_str(&format!(
            "<EntityType Name=\"Entity{i}\"><Key><PropertyRef Name=\"dataAreaId\"/><PropertyRef Name=\"Id\"/></Key>\
             <Property Name=\"dataAreaId\" Type=\"Edm.String\" Nullable=\"false\"><Annotation Term=\"Microsoft.Dynamics.OData.Core.V1.LabelId\" String=\"@SYS{i}\"/></Property>\
             <Property Name=\"Id\" Type=\"Edm.String\" Nullable=\"false\"/><Property Name=\"Amount\" Type=\"Edm.Decimal\" Nullable=\"false\"/>\
             <Property Name=\"Blocked\" Type=\"Microsoft.Dynamics.DataEntities.NoYes\"><Annotation Term=\"Microsoft.Dynamics.OData.Core.V1.AXType\"><EnumMember>Microsoft.Dynamics.OData.Core.V1.AXType/Enum</EnumMember></Annotation></Property>\
             <Property Name=\"Description\" Type=\"Edm.String\"><Annotation Term=\"Org.OData.Core.V1.Description\"><String>a &amp; b &lt; c {i}</String></Annotation></Property></EntityType>\n"
        ));
    }
    xml.push_str("<EntityContainer Name=\"Resources\">");
    for i in 0..entities {
        xml.push_str(&format!(
            "<EntitySet Name=\"Entities{i}\" EntityType=\"Microsoft.Dynamics.DataEntities.Entity{i}\"/>"
        ));
    }
    xml.push_str("</EntityContainer></Schema><Schema Namespace=\"Microsoft.Dynamics.OData.Core.V1\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\"><EnumType Name=\"AXType\"><Member Name=\"Enum\" Value=\"4\"/></EnumType></Schema></edmx:DataServices></edmx:Edmx>\n");
    xml
}

#[test]
fn two_thread_read_equals_sequential_read() {
    let xml = big_document(16000, "");
    assert!(
        xml.len() > csdl_min_bytes(),
        "document too small to exercise the split: {}",
        xml.len()
    );
    let parallel = dualsync_csdl::parse_str(&xml).unwrap();
    let sequential = dualsync_csdl::parse_str_sequential(&xml).unwrap();
    assert_eq!(parallel.schemas.len(), 2);
    assert_eq!(parallel.schemas[0].entity_types.len(), 16000);
    assert!(parallel == sequential, "parallel and sequential reads differ");
}

#[test]
fn a_cut_inside_a_comment_falls_back_and_still_reads() {
    // A comment whose `<EntityType ` text is the first cut candidate after the middle.
    let comment = "<!-- ".to_string() + &"x".repeat(4 << 20) + " <EntityType Name=\"Fake\"> -->";
    let xml = big_document(6000, &comment);
    let parallel = dualsync_csdl::parse_str(&xml).unwrap();
    let sequential = dualsync_csdl::parse_str_sequential(&xml).unwrap();
    assert!(xml.len() > csdl_min_bytes());
    assert_eq!(parallel.schemas[0].entity_types.len(), 6000);
    assert!(parallel == sequential);
}

#[test]
fn errors_in_either_half_are_the_sequential_errors() {
    let mut xml = big_document(16000, "");
    assert!(xml.len() > csdl_min_bytes());
    // Break the second half and, separately, the first half.
    let late = xml.rfind("<EntityType Name=\"Entity12000\"").unwrap();
    xml.replace_range(late..late + 11, "<EntityTipe");
    let e1 = dualsync_csdl::parse_str(&xml).unwrap_err();
    let e2 = dualsync_csdl::parse_str_sequential(&xml).unwrap_err();
    assert_eq!(e1, e2);
    let mut xml = big_document(16000, "");
    let early = xml.find("<EntityType Name=\"Entity100\"").unwrap();
    xml.replace_range(early + 1..early + 2, "");
    let e1 = dualsync_csdl::parse_str(&xml).unwrap_err();
    let e2 = dualsync_csdl::parse_str_sequential(&xml).unwrap_err();
    assert_eq!(e1, e2);
}

#[test]
fn warnings_in_either_half_are_the_sequential_warnings() {
    let mut xml = big_document(16000, "");
    // `sap:` in both halves (reported once, at the first), `abc:` only in the second.
    for (entity, attribute) in [
        (12000, " sap:label=\"late\""),
        (12001, " abc:x=\"1\""),
        (100, " sap:label=\"early\""),
    ] {
        let at = xml.find(&format!("<EntityType Name=\"Entity{entity}\"")).unwrap() + "<EntityType".len();
        xml.insert_str(at, attribute);
    }
    let parallel = dualsync_csdl::parse_str(&xml).unwrap();
    let sequential = dualsync_csdl::parse_str_sequential(&xml).unwrap();
    assert_eq!(sequential.warnings.len(), 2, "{:?}", sequential.warnings);
    assert_eq!(
        &xml[sequential.warnings[0].span.start..sequential.warnings[0].span.end],
        "sap:label"
    );
    assert!(sequential.warnings[0].span.start < xml.len() / 2);
    assert!(sequential.warnings[1].message.contains("`abc`"));
    assert_eq!(parallel.warnings, sequential.warnings);
    assert!(parallel == sequential);
}

fn csdl_min_bytes() -> usize {
    6 << 20
}
