include!("entities.in");

#[derive(dualsync::TableMap)]
#[table_map(fo = Customer, dv = Account)]
struct Map {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    key: (),
    // transactioncurrency has no `isocode`; and the lookup does not point to msdyn_customergroup.
    #[map(fo_to_dv, fo = currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocode))]
    currency: (),
    #[map(fo_to_dv, fo = organization_name, dv = msdyn_company_value, lookup(CustomerGroup::msdyn_groupid))]
    company: (),
}

fn main() {}
