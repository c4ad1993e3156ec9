include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, dv_filter = "statecode eq (0")]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber, colour = "red")]
    key: (),
    #[map(fo = organization_name, dv = name)]
    name: (),
}

fn main() {}
