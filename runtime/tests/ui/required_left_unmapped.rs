include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = CustomerGroup)]
struct Map {
    #[map(key, both, fo = customer_account, dv = msdyn_groupid)]
    key: (),
}

fn main() {}
