include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, dv_filter = "numberofemployees = 3")]
struct Equals {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
}

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, dv_filter = "numberofemployees == 3")]
struct DoubleEquals {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
}

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, fo_filter = "OrganizationName eq \"Contoso\"")]
struct DoubleQuotes {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
}

fn main() {}
