include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(both, fo = organization_name, dv = name)]
    name: (),
}

fn main() {}
