include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    // Not an integer.
    #[map(fo_to_dv, dv = numberofemployees, default = "three")]
    employees: (),
    // An integer, but beyond Edm.Int32.
    #[map(fo_to_dv, dv = paymentdays, default = 3000000000)]
    days: (),
    // Beyond MaxLength = 160.
    #[map(fo_to_dv, dv = name, default = "Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso Contoso")]
    name: (),
    // Beyond Scale = 6.
    #[map(dv_to_fo, fo = credit_limit, default = 0.1234567)]
    limit: (),
}

fn main() {}
