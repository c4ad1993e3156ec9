//! The reader's findings from real services (issue 8), each with a small document: Graph's actions
//! and functions that share a name, and SAP's attributes with an undeclared namespace prefix.

mod common;

use common::{edmx, first_error, model_of_str};
use dualsync_csdl::ErrorKind;

/// Graph v1.0 has a `delta` action and a `delta` function (and `count`, `image`, `search`, ...), each
/// overloaded by binding type; OData.NET reads it.
const SHARED_NAMES: &str = r#"
<EntityType Name="user"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<EntityType Name="group"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.user)"/><ReturnType Type="Collection(d.user)"/></Action>
<Action Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.group)"/><ReturnType Type="Collection(d.group)"/></Action>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.user)"/><ReturnType Type="Collection(d.user)"/></Function>
<Function Name="delta" IsBound="true"><Parameter Name="bindingParameter" Type="Collection(d.group)"/><ReturnType Type="Collection(d.group)"/></Function>
<Function Name="delta"><Parameter Name="token" Type="Edm.String"/><ReturnType Type="Edm.String"/></Function>
<Action Name="count"><ReturnType Type="Edm.Int32"/></Action>
<Function Name="count"><ReturnType Type="Edm.Int32"/></Function>
<EntityContainer Name="Service">
  <EntitySet Name="users" EntityType="d.user"/>
  <ActionImport Name="countAction" Action="d.count"/>
  <FunctionImport Name="countFunction" Function="d.count"/>
</EntityContainer>
<Annotations Target="d.delta"><Annotation Term="Org.OData.Core.V1.Description" String="changes"/></Annotations>
"#;

#[test]
fn an_action_and_a_function_may_share_a_name_with_overloads_of_both() {
    let model = model_of_str(&edmx(SHARED_NAMES));
    assert_eq!(model.actions["Demo.delta"].len(), 2);
    assert_eq!(model.functions["Demo.delta"].len(), 3);
    assert_eq!(model.actions["Demo.count"].len(), 1);
    assert_eq!(model.functions["Demo.count"].len(), 1);
    // Counted once per element, overloads included (what `inspect --json` prints).
    let counts = model.counts();
    assert_eq!((counts.actions, counts.functions), (3, 4));
    // Imports find their kind; an annotation on the shared name reaches every element of it.
    let container = &model.containers["Demo.Service"];
    assert_eq!(container.action_imports["countAction"].action, "Demo.count");
    assert_eq!(container.function_imports["countFunction"].function, "Demo.count");
    for operation in model.actions["Demo.delta"]
        .iter()
        .chain(&model.functions["Demo.delta"])
    {
        assert_eq!(
            operation.annotations.description(),
            Some("changes"),
            "{}",
            operation.name
        );
    }
    assert!(model.warnings.is_empty(), "{:?}", model.warnings);
}

#[test]
fn a_name_shared_by_an_operation_and_anything_else_is_still_a_duplicate() {
    let e = first_error(&edmx(
        r#"<ComplexType Name="delta"/><Action Name="delta"/><Function Name="delta"><ReturnType Type="Edm.Int32"/></Function>"#,
    ));
    assert!(
        matches!(&*e.kind, ErrorKind::Duplicate { what: "schema element", name } if name == "Demo.delta"),
        "{e}"
    );
    // Used as a type, the shared name says what it is.
    let e = first_error(&edmx(
        r#"<Function Name="delta"><ReturnType Type="Edm.Int32"/></Function><Action Name="delta"/><ComplexType Name="C"><Property Name="p" Type="d.delta"/></ComplexType>"#,
    ));
    assert!(
        matches!(
            &*e.kind,
            ErrorKind::WrongKind {
                found: "action and function",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn an_import_of_the_wrong_kind_is_still_an_error() {
    let e = first_error(&edmx(
        r#"<Action Name="only"/><EntityContainer Name="C"><FunctionImport Name="f" Function="d.only"/></EntityContainer>"#,
    ));
    assert!(
        matches!(
            &*e.kind,
            ErrorKind::WrongKind {
                found: "action",
                expected: "function",
                ..
            }
        ),
        "{e}"
    );
}

/// SAP services write `sap:` attributes without declaring `xmlns:sap`.
const UNDECLARED_PREFIX: &str = r#"
<EntityType Name="Customer" sap:content-version="1"><Key><PropertyRef Name="Id"/></Key>
  <Property Name="Id" Type="Edm.String" Nullable="false" sap:label="Customer" sap:creatable="false"/>
  <Property Name="Name" Type="Edm.String" other:hint="x" xml:lang="en"/>
</EntityType>
<EntityType Name="Declared" xmlns:ok="urn:ok" ok:flag="1"><Key><PropertyRef Name="Id"/></Key>
  <Property Name="Id" Type="Edm.String" Nullable="false" ok:label="fine"/>
</EntityType>
"#;

#[test]
fn an_undeclared_attribute_prefix_is_accepted_with_a_warning_naming_it_and_where() {
    let xml = edmx(UNDECLARED_PREFIX);
    let document = dualsync_csdl::parse_str(&xml).unwrap();
    assert_eq!(document.warnings.len(), 2, "{:?}", document.warnings);
    let model = dualsync_csdl::Model::resolve(vec![document]).unwrap();
    assert_eq!(model.entity_types["Demo.Customer"].properties.len(), 2);
    // Once per prefix, at its first use; `xml:` is always bound; a declared prefix says nothing.
    let found: Vec<(&str, &str)> = model
        .warnings
        .iter()
        .map(|w| (&xml[w.span.start..w.span.end], w.message.as_str()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "sap:content-version");
    assert!(
        found[0].1.contains("namespace prefix `sap`")
            && found[0].1.contains("<EntityType>")
            && found[0].1.contains("not declared"),
        "{}",
        found[0].1
    );
    assert_eq!(found[1].0, "other:hint");
    let (line, _) = model.warnings[0].span.line_col(&xml);
    assert_eq!(line, 6);
}

#[test]
fn warnings_are_per_document_in_a_model_of_several() {
    let plain = dualsync_csdl::parse_str(&edmx("<EntityType Name=\"A\"/>").replace("Demo", "Other")).unwrap();
    let sap = dualsync_csdl::parse_str(&edmx(UNDECLARED_PREFIX)).unwrap();
    let model = dualsync_csdl::Model::resolve(vec![plain, sap]).unwrap();
    assert_eq!(model.warnings.len(), 2);
    assert!(model.warnings.iter().all(|w| w.source_index == 1));
}
