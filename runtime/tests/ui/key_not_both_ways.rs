include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, fo_to_dv, fo = customer_account, dv = accountnumber)]
    key: (),
}

fn main() {}
