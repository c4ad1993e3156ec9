include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, company = "DataArea")]
struct WrongColumn {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
}

// msdyn_customergroup (here) has no company lookup.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = CustomerGroup, company = "dataAreaId")]
struct NoCompanyLookup {
    #[map(key, both, fo = customer_account, dv = msdyn_groupid)]
    key: (),
    #[map(fo_to_dv, fo = organization_name, dv = msdyn_description)]
    description: (),
}

fn main() {}
