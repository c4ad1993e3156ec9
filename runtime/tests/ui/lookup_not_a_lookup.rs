include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    // `name` is not a lookup.
    #[map(fo_to_dv, fo = currency_code, dv = name, lookup(TransactionCurrency::isocurrencycode))]
    name: (),
}

fn main() {}
