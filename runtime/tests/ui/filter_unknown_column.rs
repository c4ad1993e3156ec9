include!("entities.in");

// Each filter is checked against its own side: F&O names against the F&O entity, Dataverse names
// against the table.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account, fo_filter = "OrganisationName ne null", dv_filter = "customertypcode eq 3")]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
}

fn main() {}
