//! Table maps written by hand against the generated bindings (dual-write's templates), shared by the
//! tests and the mapping benchmark.

use dualsync::edm::Decimal;
use dualsync::entity::Entity;
use dualsync::json::{EntityJson, Value};
use dualsync_generated::dataverse::{Account, MsdynCustomergroup, Transactioncurrency};
use dualsync_generated::fo::{Currency, CustomerV3, NoYes};

/// Customers V3 ↔ accounts, from dual-write's template (shared/corpus/maps/dualwrite-standard-maps.txt).
#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account, company = "dataAreaId", dv_filter = "customertypecode eq 3")]
pub struct CustomersV3ToAccounts {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    customer_account: (),
    // CreditLimit, the payment days and the employee count are Nullable=false in F&O: a null from
    // Dataverse is written as 0 there.
    #[map(both, fo = credit_limit, dv = creditlimit, default = 0)]
    credit_limit: (),
    #[map(fo_to_dv, fo = sales_currency_code, dv = transactioncurrencyid_value, lookup(Transactioncurrency::isocurrencycode))]
    sales_currency: (),
    #[map(both, fo = sales_memo, dv = description)]
    sales_memo: (),
    #[map(both, fo = credit_limit_is_mandatory, dv = msdyn_creditlimitismandatory, value_map(Yes = true, No = false))]
    credit_limit_is_mandatory: (),
    #[map(both, fo = credit_rating, dv = msdyn_creditrating)]
    credit_rating: (),
    #[map(fo_to_dv, fo = customer_group_id, dv = msdyn_customergroupid_value, lookup(MsdynCustomergroup::msdyn_groupid))]
    customer_group: (),
    // A lookup into the map's own table (dual-write: INVOICEACCOUNT = msdyn_billingaccount.accountnumber):
    // the engine writes a record whose invoice account is not there yet in two passes.
    #[map(fo_to_dv, fo = invoice_account, dv = msdyn_billingaccount_value, lookup(Account::accountnumber))]
    invoice_account: (),
    #[map(both, fo = identification_number, dv = msdyn_identificationnumber)]
    identification_number: (),
    #[map(both, fo = is_one_time_customer, dv = msdyn_onetimecustomer, value_map(Yes = true, No = false))]
    one_time_customer: (),
    #[map(both, fo = party_country, dv = msdyn_partycountry)]
    party_country: (),
    #[map(both, fo = party_state, dv = msdyn_partystateprovince)]
    party_state: (),
    #[map(both, fo = payment_terms_base_days, dv = msdyn_paymenttermsbasedays, default = 0)]
    payment_terms_base_days: (),
    #[map(both, fo = tax_exempt_number, dv = msdyn_taxexemptnumber)]
    tax_exempt_number: (),
    #[map(both, fo = organization_name, dv = name)]
    organization_name: (),
    #[map(both, fo = organization_number_of_employees, dv = numberofemployees, default = 0)]
    employees: (),
    #[map(both, fo = primary_contact_email, dv = emailaddress1)]
    email: (),
    #[map(both, fo = primary_contact_phone, dv = telephone1)]
    phone: (),
    #[map(both, fo = primary_contact_url, dv = websiteurl)]
    url: (),
    #[map(both, fo = invoice_address_city, dv = address2_city)]
    invoice_city: (),
    // An F&O decimal into a Dataverse float: rounds, so it is asked for.
    #[map(fo_to_dv, fo = delivery_address_latitude, dv = address1_latitude, lossy)]
    delivery_latitude: (),
    #[map(fo_to_dv, dv = customertypecode, default = 3)]
    customer_type: (),
    #[map(dv_to_fo, fo = party_type, default = "Organization")]
    party_type: (),
}

/// Customer `i`: every non-nullable column filled (F&O sends them all), some values varying with `i`.
pub fn sample_customer(i: usize) -> CustomerV3 {
    let mut object = dualsync::json::Map::new();
    for field in CustomerV3::FIELDS {
        let value = match (field.nullable, field.edm) {
            (true, _) => Value::Null,
            (false, "Edm.String") => Value::String(String::new()),
            (false, "Edm.Decimal" | "Edm.Int32" | "Edm.Int64") => "0".parse().expect("fixture"),
            (false, "Edm.DateTimeOffset") => Value::String("1900-01-01T00:00:00Z".into()),
            (false, "Edm.Guid") => Value::String("00000000-0000-0000-0000-000000000000".into()),
            (false, "Edm.Boolean") => Value::Bool(false),
            (false, _) => Value::String("No".into()),
        };
        object.insert(field.name.to_string(), value);
    }
    let mut record = CustomerV3::from_json_object(&object).expect("fixture");
    record.data_area_id = "usmf".into();
    record.customer_account = format!("US-{i:06}");
    record.organization_name = Some("Contoso Europe".into());
    record.credit_limit = Decimal::new(250_000_123_456 + i as i64, 6);
    record.credit_limit_is_mandatory = Some(if i % 2 == 1 { NoYes::Yes } else { NoYes::No });
    record.is_one_time_customer = Some(NoYes::No);
    record.sales_currency_code = Some("EUR".into());
    record.payment_terms_base_days = 30;
    record
}

/// Currencies ↔ transactioncurrencies, from dual-write's template: the code, name and symbol both
/// ways; a new Dataverse currency gets the exchange rate 1.
#[derive(dualsync::TableMap)]
#[table_map(fo = Currency, dv = Transactioncurrency)]
pub struct CurrenciesToTransactioncurrencies {
    #[map(key, both, fo = currency_code, dv = isocurrencycode)]
    code: (),
    #[map(both, fo = name, dv = currencyname)]
    name: (),
    #[map(both, fo = symbol, dv = currencysymbol)]
    symbol: (),
    #[map(fo_to_dv, dv = exchangerate, default = 1)]
    exchange_rate: (),
}
