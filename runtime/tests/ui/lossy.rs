include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    // Decimal -> float rounds: it must be asked for.
    #[map(fo_to_dv, fo = latitude, dv = address1_latitude)]
    latitude: (),
    // creditlimit is money (Dataverse gives it a creditlimit_base column): never through a float.
    #[map(dv_to_fo, fo = score, dv = creditlimit, lossy)]
    score: (),
    // Nothing rounds here.
    #[map(both, fo = organization_name, dv = name, lossy)]
    name: (),
}

fn main() {}
