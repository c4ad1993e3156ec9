use dualsync_codegen::csdl::syntax::*;
use dualsync_codegen::model;
fn main() {
    println!("syntax Property {}", std::mem::size_of::<Property>());
    println!("syntax Annotation {}", std::mem::size_of::<Annotation>());
    println!("syntax Expression {}", std::mem::size_of::<Expression>());
    println!("syntax EntityType {}", std::mem::size_of::<EntityType>());
    println!(
        "syntax NavigationProperty {}",
        std::mem::size_of::<NavigationProperty>()
    );
    println!("Facets {}", std::mem::size_of::<Facets>());
    println!("model Property {}", std::mem::size_of::<model::Property>());
    println!("model EntityType {}", std::mem::size_of::<model::EntityType>());
    println!("Error {}", std::mem::size_of::<dualsync_codegen::Error>());
}
