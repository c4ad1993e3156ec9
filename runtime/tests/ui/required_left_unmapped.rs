include!("entities.in");

// msdyn_description is ApplicationRequired (entity metadata); the owner is SystemRequired but
// Dataverse fills it on create, so it need not be mapped.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = CustomerGroup)]
struct Map {
    #[map(key, both, fo = customer_account, dv = msdyn_groupid)]
    key: (),
}

fn main() {}
