//! `#[derive(EdmEnum)]` and `#[derive(OptionSet)]`, as the generator writes them: the members from
//! the attributes, OData JSON both ways, the fallback for members added after generation, literals,
//! and flags.

use dualsync::entity::Literal;
use dualsync::json::{EdmJson, Value};

/// Enum type `Test.NoYes`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, dualsync::EdmEnum)]
#[edm_enum(type_name = "Test.NoYes")]
pub enum NoYes {
    #[member(name = "No", value = 0)]
    No,
    #[member(name = "Yes", value = 1)]
    Yes,
    #[member(name = "None", value = -1)]
    None_,
    Unrecognized(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, dualsync::EdmEnum)]
#[edm_enum(type_name = "Test.Color", flags)]
#[member(name = "None", value = 0, rust = NONE)]
#[member(name = "Red", value = 1, rust = RED)]
#[member(name = "Blue", value = 4, rust = BLUE)]
pub struct Color(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, dualsync::OptionSet)]
#[option_set(column = "customertypecode")]
pub enum CustomerType {
    #[option(value = 1, label = "Competitor")]
    Competitor,
    #[option(value = 3, label = "Customer")]
    Customer,
    Unknown(i32),
}

#[test]
fn an_enum_reads_and_writes_its_members_and_keeps_unknown_ones() {
    assert_eq!(NoYes::TYPE_NAME, "Test.NoYes");
    assert_eq!(NoYes::MEMBERS, &[("No", 0), ("Yes", 1), ("None", -1)]);
    assert_eq!(NoYes::Yes.to_json(), Value::String("Yes".into()));
    assert_eq!(
        NoYes::from_json(&Value::String("None".into())).unwrap(),
        NoYes::None_
    );
    assert_eq!(NoYes::None_.value(), Some(-1));
    let added = NoYes::from_json(&Value::String("Maybe".into())).unwrap();
    assert_eq!(added, NoYes::Unrecognized("Maybe".into()));
    assert_eq!(added.name(), "Maybe");
    assert_eq!(added.value(), None);
    assert!(
        NoYes::from_json(&Value::from(1)).is_err(),
        "a number is not a member name"
    );
    assert_eq!(NoYes::Yes.literal(), "Test.NoYes'Yes'");
}

#[test]
fn flags_are_bits_with_names() {
    let both = Color(Color::RED.0 | Color::BLUE.0);
    assert_eq!(both.names(), "Red,Blue");
    assert_eq!(Color::NONE.names(), "None");
    assert!(both.contains(Color::BLUE));
    assert_eq!(both.to_json(), Value::String("Red,Blue".into()));
    assert_eq!(
        Color::from_json(&Value::String("Blue, Red".into())).unwrap(),
        both
    );
    assert_eq!(Color::from_json(&Value::from(5)).unwrap(), both);
    let e = Color::from_json(&Value::String("Green".into())).unwrap_err();
    assert!(
        e.to_string().contains("`Green` is not a member of Test.Color"),
        "{e}"
    );
}

#[test]
fn an_option_set_reads_and_writes_values_and_keeps_unknown_ones() {
    assert_eq!(CustomerType::COLUMN, "customertypecode");
    assert_eq!(CustomerType::OPTIONS, &[(1, "Competitor"), (3, "Customer")]);
    assert_eq!(CustomerType::Customer.to_json(), Value::from(3));
    assert_eq!(
        CustomerType::from_json(&Value::from(1)).unwrap(),
        CustomerType::Competitor
    );
    assert_eq!(
        CustomerType::from_json(&Value::from(7)).unwrap(),
        CustomerType::Unknown(7)
    );
    assert_eq!(CustomerType::Unknown(7).value(), 7);
    assert_eq!(CustomerType::Customer.literal(), "3");
}
