include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(both, fo = blocked, dv = donotemail, value_map(Yes = true, No = false))]
    blocked: (),
}

fn main() {
    use dualsync::map::TableMap;
    assert_eq!(Map::COLUMNS.len(), 3);
}
