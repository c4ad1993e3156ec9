include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, fo = blocked, dv = donotemail, value_map(Yes = true, No = false, Maybe = true))]
    blocked: (),
}

fn main() {}
