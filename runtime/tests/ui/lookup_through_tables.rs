include!("entities.in");

// A hop that is not a lookup.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct NotALookupOnTheWay {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, fo = currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocurrencycode, CustomerGroup::msdyn_groupid))]
    currency: (),
}

// A hop to a table its lookup does not point to (`ownerid` points to principals).
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct WrongTableOnTheWay {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, fo = currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::transactioncurrencyid, CustomerGroup::msdyn_groupid))]
    currency: (),
    #[map(fo_to_dv, fo = organization_name, dv = msdyn_company_value, lookup(CustomerGroup::ownerid_value, TransactionCurrency::isocurrencycode))]
    company: (),
}

// Two columns of one lookup: one goes to Dataverse and the other does not, and both name the same
// column of the target.
#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct PartsDisagree {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    #[map(fo_to_dv, fo = currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocurrencycode))]
    currency: (),
    #[map(dv_to_fo, fo = organization_name, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocurrencycode))]
    name: (),
}

fn main() {}
