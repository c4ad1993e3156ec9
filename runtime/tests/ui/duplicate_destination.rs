include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, fo = organization_name, dv = name)]
    name: (),
    #[map(fo_to_dv, fo = customer_account, dv = name)]
    again: (),
}

fn main() {}
