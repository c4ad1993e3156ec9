include!("entities.in");

// Every kind of column, including the create-only `overriddencreatedon` and a lossy decimal → float.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, company = "dataAreaId", fo_filter = "OrganizationName ne null", dv_filter = "name eq 'O''Brien'")]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(both, fo = blocked, dv = donotemail, value_map(Yes = true, No = false))]
    blocked: (),
    #[map(both, fo = credit_limit, dv = creditlimit, default = 0)]
    credit: (),
    #[map(fo_to_dv, fo = latitude, dv = address1_latitude, lossy)]
    latitude: (),
    #[map(fo_to_dv, fo = currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocurrencycode))]
    currency: (),
    #[map(fo_to_dv, dv = overriddencreatedon, default = "2020-01-01T00:00:00Z")]
    created: (),
    #[map(both, fo = payment_days, dv = paymentdays, default = 30)]
    days: (),
}

fn main() {
    use dualsync::map::TableMap;
    assert_eq!(Map::COLUMNS.len(), 8);
}
