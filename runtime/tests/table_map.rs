//! `#[derive(TableMap)]` on hand-written entities shaped like Customers V3 and accounts: both
//! directions, value maps, defaults, lookups by key column, company striping both ways, records read
//! with `$select` (not selected is not null), nulls never written into `Nullable=false` columns, the
//! request shape of a whole record, polymorphic lookups, and a property test that a bijective map
//! round-trips F&O -> Dataverse -> F&O exactly.

use std::str::FromStr;

use dualsync::edm::{Decimal, Guid};
use dualsync::entity::{Entity, Patch, PatchValue, Record};
use dualsync::json::{EdmJson, EntityJson, JsonError, Map, Value};
use dualsync::map::{Direction, LookupRequest, MapError, TableMap};
use proptest::prelude::*;

/// An F&O enum, shaped as the generator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NoYes {
    No,
    Yes,
    Unrecognized(String),
}

impl NoYes {
    pub const TYPE_NAME: &'static str = "Microsoft.Dynamics.DataEntities.NoYes";
    pub const MEMBERS: &'static [(&'static str, i64)] = &[("No", 0), ("Yes", 1)];
    pub fn name(&self) -> &str {
        match self {
            NoYes::No => "No",
            NoYes::Yes => "Yes",
            NoYes::Unrecognized(name) => name,
        }
    }
    pub fn from_name(name: &str) -> Self {
        match name {
            "No" => NoYes::No,
            "Yes" => NoYes::Yes,
            other => NoYes::Unrecognized(other.to_string()),
        }
    }
}

impl EdmJson for NoYes {
    fn to_json(&self) -> Value {
        Value::String(self.name().to_string())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        Ok(NoYes::from_name(value.as_str().unwrap_or_default()))
    }
}

impl dualsync::__private::ColumnType for NoYes {
    const KIND: dualsync::__private::Kind = dualsync::__private::Kind::Enum {
        members: NoYes::MEMBERS,
    };
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.DataEntities.CustomerV3",
    set = "CustomersV3",
    key("dataAreaId", "CustomerAccount"),
    company = "dataAreaId"
)]
pub struct CustomerV3 {
    #[field(name = "dataAreaId", edm = "Edm.String", not_null, key, max_length = 4)]
    pub data_area_id: String,
    #[field(name = "CustomerAccount", edm = "Edm.String", not_null, key)]
    pub customer_account: String,
    #[field(name = "OrganizationName", edm = "Edm.String")]
    pub organization_name: Option<String>,
    #[field(
        name = "CreditLimit",
        edm = "Edm.Decimal",
        not_null,
        precision = 32,
        scale = 6
    )]
    pub credit_limit: Decimal,
    #[field(
        name = "CreditLimitIsMandatory",
        edm = "Microsoft.Dynamics.DataEntities.NoYes"
    )]
    pub credit_limit_is_mandatory: Option<NoYes>,
    #[field(name = "SalesCurrencyCode", edm = "Edm.String")]
    pub sales_currency_code: Option<String>,
    #[field(name = "Latitude", edm = "Edm.Decimal", precision = 32, scale = 16)]
    pub latitude: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.account",
    set = "accounts",
    key("accountid"),
    alternate_key("accountnumber", "_msdyn_company_value")
)]
pub struct Account {
    #[field(name = "accountid", edm = "Edm.Guid", key)]
    pub accountid: Option<Guid>,
    #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
    pub accountnumber: Option<String>,
    #[field(name = "name", edm = "Edm.String", required = "ApplicationRequired")]
    pub name: Option<String>,
    #[field(name = "creditlimit", edm = "Edm.Decimal", scale = "variable")]
    pub creditlimit: Option<Decimal>,
    #[field(name = "creditlimit_base", edm = "Edm.Decimal", scale = "variable", read_only)]
    pub creditlimit_base: Option<Decimal>,
    #[field(name = "msdyn_creditlimitismandatory", edm = "Edm.Boolean")]
    pub msdyn_creditlimitismandatory: Option<bool>,
    #[field(name = "customertypecode", edm = "Edm.Int32")]
    pub customertypecode: Option<i32>,
    #[field(name = "address1_latitude", edm = "Edm.Double")]
    pub address1_latitude: Option<f64>,
    #[field(name = "createdon", edm = "Edm.DateTimeOffset")]
    pub createdon: Option<dualsync::edm::DateTimeOffset>,
    #[field(name = "overriddencreatedon", edm = "Edm.DateTimeOffset")]
    pub overriddencreatedon: Option<dualsync::edm::DateTimeOffset>,
    #[field(
        name = "_transactioncurrencyid_value",
        edm = "Edm.Guid",
        read_only,
        computed,
        lookup(
            nav = "transactioncurrencyid",
            target = "Microsoft.Dynamics.CRM.transactioncurrency",
            set = "transactioncurrencies"
        )
    )]
    pub transactioncurrencyid_value: Option<Guid>,
    #[field(
        name = "_msdyn_company_value",
        edm = "Edm.Guid",
        read_only,
        lookup(
            nav = "msdyn_company",
            target = "Microsoft.Dynamics.CRM.cdm_company",
            set = "cdm_companies"
        )
    )]
    pub msdyn_company_value: Option<Guid>,
    #[field(
        name = "_ownerid_value",
        edm = "Edm.Guid",
        read_only,
        required = "SystemRequired",
        lookup(nav = "ownerid", target = "Microsoft.Dynamics.CRM.principal", set = "")
    )]
    pub ownerid_value: Option<Guid>,
    #[field(
        name = "_createdby_value",
        edm = "Edm.Guid",
        read_only,
        lookup(
            nav = "createdby",
            target = "Microsoft.Dynamics.CRM.systemuser",
            set = "systemusers"
        )
    )]
    pub createdby_value: Option<Guid>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.transactioncurrency",
    set = "transactioncurrencies",
    key("transactioncurrencyid")
)]
pub struct TransactionCurrency {
    #[field(name = "transactioncurrencyid", edm = "Edm.Guid", key)]
    pub transactioncurrencyid: Option<Guid>,
    #[field(name = "isocurrencycode", edm = "Edm.String")]
    pub isocurrencycode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(type_name = "Microsoft.Dynamics.CRM.team", set = "teams", key("teamid"))]
pub struct Team {
    #[field(name = "teamid", edm = "Edm.Guid", key)]
    pub teamid: Option<Guid>,
    #[field(name = "name", edm = "Edm.String")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.systemuser",
    set = "systemusers",
    key("systemuserid")
)]
pub struct SystemUser {
    #[field(name = "systemuserid", edm = "Edm.Guid", key)]
    pub systemuserid: Option<Guid>,
    #[field(name = "domainname", edm = "Edm.String")]
    pub domainname: Option<String>,
}

#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account, company = "dataAreaId", fo_filter = "CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes' or OrganizationName ne null", dv_filter = "customertypecode eq 3")]
pub struct CustomersV3ToAccounts {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    // CreditLimit is Nullable=false in F&O: a null credit limit from Dataverse is written as 0.
    #[map(both, fo = credit_limit, dv = creditlimit, default = 0)]
    credit_limit: (),
    #[map(both, fo = credit_limit_is_mandatory, dv = msdyn_creditlimitismandatory, value_map(Yes = true, No = false))]
    mandatory: (),
    #[map(fo_to_dv, dv = customertypecode, default = 3)]
    kind: (),
    #[map(fo_to_dv, fo = sales_currency_code, dv = transactioncurrencyid_value, lookup(TransactionCurrency::isocurrencycode))]
    currency: (),
    #[map(fo_to_dv, fo = latitude, dv = address1_latitude, lossy)]
    latitude: (),
}

fn customer(account: &str, name: Option<&str>, limit: &str, mandatory: Option<NoYes>) -> CustomerV3 {
    CustomerV3 {
        data_area_id: "usmf".into(),
        customer_account: account.into(),
        organization_name: name.map(str::to_string),
        credit_limit: Decimal::from_str(limit).unwrap(),
        credit_limit_is_mandatory: mandatory,
        sales_currency_code: Some("USD".into()),
        latitude: None,
    }
}

fn record<E>(json: &str) -> Record<E> {
    match json.parse::<Value>().unwrap() {
        Value::Object(object) => Record::from_object(object),
        _ => unreachable!(),
    }
}

fn requests(lookups: &[LookupRequest]) -> Vec<(&str, &str, &str, &str, &str)> {
    lookups
        .iter()
        .map(|l| (l.column, l.navigation, l.target_set, l.key, l.value.as_str()))
        .collect()
}

#[test]
fn metadata_for_the_engine() {
    assert_eq!(CustomersV3ToAccounts::COMPANY, Some("dataAreaId"));
    assert_eq!(CustomersV3ToAccounts::DV_FILTER, Some("customertypecode eq 3"));
    let key: Vec<_> = CustomersV3ToAccounts::COLUMNS
        .iter()
        .filter(|c| c.key)
        .map(|c| (c.fo, c.dv))
        .collect();
    assert_eq!(key, [("CustomerAccount", "accountnumber")]);
    let currency = CustomersV3ToAccounts::COLUMNS
        .iter()
        .find(|c| c.lookup == "isocurrencycode")
        .unwrap();
    assert_eq!(
        (currency.direction, currency.dv),
        (Direction::FoToDv, "_transactioncurrencyid_value")
    );
    assert_eq!(<CustomersV3ToAccounts as TableMap>::Dv::SET, "accounts");
}

#[test]
fn fo_to_dv_patch_and_lookups() {
    let mut source = customer("US-001", Some("Contoso"), "10000.000001", Some(NoYes::Yes));
    source.latitude = Some(Decimal::from_str("47.6396").unwrap());
    let out = CustomersV3ToAccounts::fo_to_dv(&source).unwrap();
    assert_eq!(
        out.patch.to_json(),
        r#"{"accountnumber":"US-001","address1_latitude":47.6396,"creditlimit":10000.000001,"customertypecode":3,"msdyn_creditlimitismandatory":true,"name":"Contoso"}"#
    );
    // The lookup carries everything the engine needs: which navigation to bind, on which set, by
    // which key column.
    assert_eq!(
        requests(&out.lookups),
        [
            (
                "_transactioncurrencyid_value",
                "transactioncurrencyid",
                "transactioncurrencies",
                "isocurrencycode",
                "'USD'"
            ),
            (
                "_msdyn_company_value",
                "msdyn_company",
                "cdm_companies",
                "cdm_companycode",
                "'usmf'"
            ),
        ]
    );
    assert_eq!(out.lookups[0].filter(), "isocurrencycode eq 'USD'");
    let mut patch = out.patch;
    let id = Guid::from_str("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").unwrap();
    out.lookups[1].bind(&mut patch, &id);
    assert_eq!(
        patch.get_name("msdyn_company@odata.bind"),
        Some(&PatchValue::Json(
            "\"/cdm_companies(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)\"".into()
        ))
    );
    // Null travels as null, not as "unchanged"; a null lookup is unbound.
    let mut source = customer("US-002", None, "0", None);
    source.sales_currency_code = None;
    let out = CustomersV3ToAccounts::fo_to_dv(&source).unwrap();
    assert_eq!(out.patch.get(Account::NAME), Some(&PatchValue::Null));
    assert_eq!(
        out.patch.get_name("transactioncurrencyid@odata.bind"),
        Some(&PatchValue::Null)
    );
    // An enum member the value map does not know is an error for the log, not a guess.
    let error = CustomersV3ToAccounts::fo_to_dv(&customer(
        "US-003",
        None,
        "0",
        Some(NoYes::Unrecognized("Maybe".into())),
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "column `msdyn_creditlimitismandatory`: value `Maybe` has no entry in the value map"
    );
    // A key too long for the Dataverse column is an error too, and so is an empty key.
    let error =
        CustomersV3ToAccounts::fo_to_dv(&customer("US-0000000000000000000001", None, "0", None)).unwrap_err();
    assert!(error.to_string().contains("MaxLength=20"), "{error}");
}

#[test]
fn records_read_with_select_map_only_what_they_hold() {
    // `$select=dataAreaId,CustomerAccount,OrganizationName`: the credit limit (Nullable=false in F&O,
    // so decoding the struct would fail) and the currency were not selected.
    let partial: Record<CustomerV3> =
        record(r#"{"dataAreaId":"usmf","CustomerAccount":"US-001","OrganizationName":null}"#);
    assert!(
        partial.entity().is_err(),
        "a partial record is not the whole struct"
    );
    let out = CustomersV3ToAccounts::fo_to_dv(&partial).unwrap();
    // Not selected is not null: only the selected columns (and the default) are written.
    assert_eq!(
        out.patch.to_json(),
        r#"{"accountnumber":"US-001","customertypecode":3,"name":null}"#
    );
    assert_eq!(out.patch.get(Account::CREDITLIMIT), None);
    assert_eq!(requests(&out.lookups).len(), 1, "only the company lookup");
    // Without the key the record cannot be matched on the other side.
    let error = CustomersV3ToAccounts::fo_to_dv(&record::<CustomerV3>(
        r#"{"dataAreaId":"usmf","OrganizationName":"x"}"#,
    ))
    .unwrap_err();
    assert_eq!(
        error,
        MapError::KeyNotSelected {
            column: "accountnumber"
        }
    );
    // Dataverse -> F&O the same way.
    let partial: Record<Account> =
        record(r#"{"accountnumber":"US-001","name":"Contoso","msdyn_company":{"cdm_companycode":"usmf"}}"#);
    let out = CustomersV3ToAccounts::dv_to_fo(&partial).unwrap();
    assert_eq!(
        out.patch.to_json(),
        r#"{"CustomerAccount":"US-001","OrganizationName":"Contoso","dataAreaId":"usmf"}"#
    );
}

#[test]
fn company_striping_both_ways() {
    // F&O -> Dataverse binds the company lookup by the company code (above). Dataverse -> F&O writes
    // dataAreaId from the company lookup, read with $expand=msdyn_company($select=cdm_companycode).
    let account: Record<Account> = record(
        r#"{"accountnumber":"US-001","name":"Contoso","creditlimit":5,"msdyn_creditlimitismandatory":true,
            "_msdyn_company_value":"6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
            "msdyn_company":{"cdm_companycode":"USMF","cdm_companyid":"6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"}}"#,
    );
    let out = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
    assert_eq!(
        out.patch.get(CustomerV3::DATA_AREA_ID),
        Some(&PatchValue::Json("\"USMF\"".into()))
    );
    // Without the expansion the company is unknown: an error that says how to read the record.
    let bare: Record<Account> = record(r#"{"accountnumber":"US-001"}"#);
    let error = CustomersV3ToAccounts::dv_to_fo(&bare).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the Dataverse record does not say its company: read it with $expand=msdyn_company($select=cdm_companycode)"
    );
    // The generated struct has no expansion either.
    let error = CustomersV3ToAccounts::dv_to_fo(&numbered_account("US-001")).unwrap_err();
    assert!(matches!(error, MapError::CompanyNotExpanded { .. }), "{error}");
    // A company code that does not fit dataAreaId (MaxLength=4) is refused, not cut.
    let long: Record<Account> =
        record(r#"{"accountnumber":"US-001","msdyn_company":{"cdm_companycode":"TOOLONG"}}"#);
    assert!(
        CustomersV3ToAccounts::dv_to_fo(&long)
            .unwrap_err()
            .to_string()
            .contains("MaxLength=4")
    );
}

#[test]
fn nulls_never_reach_a_not_null_column() {
    // Dataverse null credit limit -> F&O CreditLimit (Nullable=false): the map's default.
    let account: Record<Account> =
        record(r#"{"accountnumber":"US-001","creditlimit":null,"msdyn_company":{"cdm_companycode":"usmf"}}"#);
    let out = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
    assert_eq!(
        out.patch.get(CustomerV3::CREDIT_LIMIT),
        Some(&PatchValue::Json("0".into()))
    );
    // A service that sends null for a column its metadata says is never null does not get that null
    // into a Nullable=false column on the other side either.
    let odd: Record<CustomerV3> =
        record(r#"{"dataAreaId":"usmf","CustomerAccount":"US-001","CreditLimit":null}"#);
    let out = NotNullBothWays::fo_to_dv(&odd).unwrap_err();
    assert_eq!(
        out,
        MapError::NullIntoNotNull {
            column: "CreditLimit"
        }
    );
    // The integration key keeps its "empty key" error.
    let empty: Record<CustomerV3> = record(r#"{"dataAreaId":"usmf","CustomerAccount":null}"#);
    assert_eq!(
        CustomersV3ToAccounts::fo_to_dv(&empty).unwrap_err(),
        MapError::EmptyKey {
            column: "accountnumber"
        }
    );
}

/// A map between two F&O-shaped columns that are both `Nullable=false`.
#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = CustomerV3)]
pub struct NotNullBothWays {
    #[map(key, both, fo = customer_account, dv = customer_account)]
    account: (),
    #[map(fo_to_dv, fo = credit_limit, dv = credit_limit)]
    limit: (),
}

#[test]
fn the_request_for_a_whole_record_holds_only_writable_set_columns() {
    let id = Guid::from_str("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").unwrap();
    let account = Account {
        accountid: Some(id),
        accountnumber: Some("US-001".into()),
        name: Some("Contoso".into()),
        creditlimit: Some(Decimal::from_str("5.5").unwrap()),
        creditlimit_base: Some(Decimal::from_str("5.5").unwrap()),
        msdyn_creditlimitismandatory: None,
        customertypecode: None,
        address1_latitude: None,
        createdon: Some("2024-01-01T00:00:00Z".parse().unwrap()),
        overriddencreatedon: Some("2020-01-01T00:00:00Z".parse().unwrap()),
        transactioncurrencyid_value: Some(id),
        msdyn_company_value: None,
        ownerid_value: None,
        createdby_value: Some(id),
    };
    // The read shape has every column (what the service sends)...
    assert_eq!(account.to_read_object().len(), Account::FIELDS.len());
    // ...the request has the set, writable ones: no nulls, no createdon / createdby (system columns),
    // no creditlimit_base (computed), the lookup bound through its navigation property.
    let create = Patch::from_entity(&account).unwrap();
    assert_eq!(
        create.to_json(),
        r#"{"accountid":"6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c","accountnumber":"US-001","creditlimit":5.5,"name":"Contoso","overriddencreatedon":"2020-01-01T00:00:00Z","transactioncurrencyid@odata.bind":"/transactioncurrencies(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)"}"#
    );
    // An update never sends create-only columns.
    let update = create.for_update();
    assert_eq!(update.get(Account::OVERRIDDENCREATEDON), None);
    assert_eq!(update.len(), create.len() - 1);
    // A set owner has two possible tables: which one is not in the struct.
    let owned = Account {
        ownerid_value: Some(id),
        ..account
    };
    assert!(
        Patch::from_entity(&owned)
            .unwrap_err()
            .to_string()
            .contains("Patch::bind")
    );
    // And a patch refuses what the service refuses.
    let mut patch: Patch<Account> = Patch::new();
    assert!(
        patch
            .set(Account::CREATEDON, &"2024-01-01T00:00:00Z".parse().unwrap())
            .is_err()
    );
    assert!(patch.set(Account::CREDITLIMIT_BASE, &Decimal::ONE).is_err());
    assert!(patch.bind(Account::CREATEDBY_VALUE, "systemusers", &id).is_err());
}

/// Owner is polymorphic: a team or a user, chosen by the lookup's target.
#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account)]
pub struct OwnedByTeam {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(fo_to_dv, fo = sales_currency_code, dv = ownerid_value, lookup(Team::name))]
    owner: (),
}

#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account)]
pub struct OwnedByUser {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(fo_to_dv, fo = sales_currency_code, dv = ownerid_value, lookup(SystemUser::domainname))]
    owner: (),
}

#[test]
fn polymorphic_lookups_bind_to_each_target() {
    let source = customer("US-001", Some("Contoso"), "1", None);
    let team = OwnedByTeam::fo_to_dv(&source).unwrap();
    assert_eq!(
        requests(&team.lookups),
        [("_ownerid_value", "ownerid", "teams", "name", "'USD'")]
    );
    let user = OwnedByUser::fo_to_dv(&source).unwrap();
    assert_eq!(
        requests(&user.lookups),
        [("_ownerid_value", "ownerid", "systemusers", "domainname", "'USD'")]
    );
    let id = Guid::from_str("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").unwrap();
    let mut patch = team.patch;
    team.lookups[0].bind(&mut patch, &id);
    assert_eq!(
        patch.get_name("ownerid@odata.bind"),
        Some(&PatchValue::Json(
            "\"/teams(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)\"".into()
        ))
    );
    // Patch::bind picks the navigation by the set, for either target.
    let mut patch: Patch<Account> = Patch::new();
    patch.bind(Account::OWNERID_VALUE, "systemusers", &id).unwrap();
    assert!(patch.get_name("ownerid@odata.bind").is_some());
    patch.bind(Account::OWNERID_VALUE, "teams", &id).unwrap();
    assert_eq!(
        patch.get_name("ownerid@odata.bind"),
        Some(&PatchValue::Json(
            "\"/teams(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)\"".into()
        ))
    );
    let error = patch.bind(Account::OWNERID_VALUE, "accounts", &id).unwrap_err();
    assert!(
        error.to_string().contains("targets: systemusers, teams"),
        "{error}"
    );
}

/// Applies a patch to an F&O record (what the engine does with the other side's current record).
fn apply(record: CustomerV3, patch: &Patch<CustomerV3>) -> CustomerV3 {
    let mut object = record.to_read_object();
    for field in CustomerV3::FIELDS {
        match patch.get_name(field.name) {
            Some(PatchValue::Null) => {
                object.insert(field.name.to_string(), Value::Null);
            }
            Some(PatchValue::Json(text)) => {
                object.insert(field.name.to_string(), text.parse().unwrap());
            }
            None => {}
        }
    }
    CustomerV3::from_json_object(&object).unwrap()
}

/// An account with only its number set.
fn numbered_account(number: &str) -> Account {
    let mut patch: Patch<Account> = Patch::new();
    patch.set(Account::ACCOUNTNUMBER, &number.to_string()).unwrap();
    Account::from_json_object(&account_object(&patch)).unwrap()
}

/// The account as Dataverse would store it, read with the company expanded.
fn account_object(patch: &Patch<Account>) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert(
        "accountid".into(),
        Value::String("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()),
    );
    for field in Account::FIELDS {
        match patch.get_name(field.name) {
            Some(PatchValue::Json(text)) => {
                object.insert(field.name.to_string(), text.parse().unwrap());
            }
            Some(PatchValue::Null) => {
                object.insert(field.name.to_string(), Value::Null);
            }
            None => {}
        }
    }
    object
}

proptest! {
    /// F&O -> Dataverse -> F&O returns the same values for every column mapped both ways.
    #[test]
    fn round_trip_is_exact(
        account in "[A-Z]{2}-[0-9]{3,10}",
        name in proptest::option::of("[ -~]{0,40}"),
        mantissa in any::<i64>(),
        scale in 0u32..=6,
        mandatory in proptest::option::of(prop_oneof![Just(NoYes::No), Just(NoYes::Yes)]),
    ) {
        let original = CustomerV3 {
            data_area_id: "usmf".into(),
            customer_account: account,
            organization_name: name,
            credit_limit: Decimal::new(mantissa, scale),
            credit_limit_is_mandatory: mandatory,
            sales_currency_code: Some("EUR".into()),
            latitude: None,
        };
        let there = CustomersV3ToAccounts::fo_to_dv(&original).unwrap();
        let mut object = account_object(&there.patch);
        object.insert("msdyn_company".into(), "{\"cdm_companycode\":\"usmf\"}".parse().unwrap());
        let back = CustomersV3ToAccounts::dv_to_fo(&Record::<Account>::from_object(object)).unwrap();
        let blank = CustomerV3 { data_area_id: String::new(), organization_name: Some("other".into()), credit_limit: Decimal::ONE, credit_limit_is_mandatory: Some(NoYes::Unrecognized("x".into())), ..original.clone() };
        let rebuilt = apply(blank, &back.patch);
        prop_assert_eq!(rebuilt, original);
    }
}

#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account)]
pub struct SentinelMap {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(both, fo = credit_limit_is_mandatory, dv = customertypecode, value_map(Yes = 1, No = null))]
    mandatory: (),
}

#[test]
fn null_sentinel_maps_both_ways() {
    let out = SentinelMap::fo_to_dv(&customer("US-9", None, "0", Some(NoYes::No))).unwrap();
    assert_eq!(out.patch.get(Account::CUSTOMERTYPECODE), Some(&PatchValue::Null));
    let out = SentinelMap::fo_to_dv(&customer("US-9", None, "0", Some(NoYes::Yes))).unwrap();
    assert_eq!(
        out.patch.get(Account::CUSTOMERTYPECODE),
        Some(&PatchValue::Json("1".into()))
    );
    let back = SentinelMap::dv_to_fo(&numbered_account("US-9")).unwrap();
    assert_eq!(
        back.patch.get(CustomerV3::CREDIT_LIMIT_IS_MANDATORY),
        Some(&PatchValue::Json("\"No\"".into()))
    );
}
