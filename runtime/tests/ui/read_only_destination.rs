include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, dv = createdon, default = "2024-01-01T00:00:00Z")]
    created: (),
}

fn main() {}
