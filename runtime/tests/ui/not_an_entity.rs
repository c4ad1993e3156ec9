include!("entities.in");

// `NotAnEntity` has no derive(Entity): one error, however many columns name it.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = NotAnEntity)]
struct Map {
    #[map(key, both, fo = customer_account, dv = name)]
    key: (),
    #[map(fo_to_dv, dv = accountnumber, default = "x")]
    name: (),
}

fn main() {}
