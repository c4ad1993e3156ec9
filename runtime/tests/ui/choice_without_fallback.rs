// An enum without the variant for members added after generation, and a member without its value.
#[derive(Debug, Clone, PartialEq, dualsync::EdmEnum)]
#[edm_enum(type_name = "Test.NoYes")]
pub enum NoYes {
    #[member(name = "No", value = 0)]
    No,
    #[member(name = "Yes")]
    Yes,
}

#[derive(Debug, Clone, Copy, PartialEq, dualsync::OptionSet)]
#[option_set(column = "x")]
pub enum Choice {
    #[option(value = 1, label = "One")]
    One,
    Two,
    Unknown(i32),
}

fn main() {}
