include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(both, fo = organization_name, dv = creditlimit)]
    limit: (),
}

fn main() {}
