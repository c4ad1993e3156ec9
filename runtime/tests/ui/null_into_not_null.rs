include!("entities.in");

// PaymentDays is Nullable=false in F&O; paymentdays can be null in Dataverse.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(both, fo = payment_days, dv = paymentdays)]
    days: (),
}

fn main() {}
