include!("entities.in");

// Read-only by Dataverse's rules although `$metadata` says nothing (system columns), and by entity
// metadata (IsValidForCreate = IsValidForUpdate = false).
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, dv = createdon, default = "2024-01-01T00:00:00Z")]
    created: (),
    #[map(fo_to_dv, dv = versionnumber, default = 1)]
    version: (),
    #[map(fo_to_dv, fo = organization_name, dv = msdyn_computed)]
    computed: (),
}

fn main() {}
