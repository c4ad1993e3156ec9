//! Service rules that `$metadata` does not state, in one place. `derive(Entity)` applies them when it
//! builds a field table, so the runtime (patches, table-map checks) sees what the service accepts.
//! Entity metadata, when the generator emits it (`#[field(valid_for_create = .., valid_for_update =
//! .., required = ..)]`), wins over these lists.

/// The namespace of Dataverse tables.
pub const DATAVERSE_NAMESPACE: &str = "Microsoft.Dynamics.CRM.";

/// Dataverse system columns: (wire name, valid for create, valid for update).
///
/// Dataverse sets these itself on every create and update, whatever the client sends, and its
/// attribute metadata says so (`IsValidForCreate` / `IsValidForUpdate`), but `$metadata` often carries
/// no `Core.Computed` for them. Sources: Microsoft Learn, "Table columns > Common columns" and the
/// `AttributeMetadata` of `account` / `contact` (Web API `EntityDefinitions(..)/Attributes`).
/// - `createdon`, `modifiedon`, `createdby`, `modifiedby`, `createdonbehalfby`, `modifiedonbehalfby`,
///   the `...externalparty` pair: the audit stamps of the write itself.
/// - `versionnumber`: the row version, changed by every write.
/// - `owninguser`, `owningteam`, `owningbusinessunit`: derived from `ownerid` (which *is* writable;
///   with "record ownership across business units" turned on, `owningbusinessunit` becomes writable:
///   the entity metadata then says so and wins).
/// - `overriddencreatedon` ("record created on", for migrations) and `importsequencenumber` are
///   writable on create only: they are listed so an update never sends them.
pub const SYSTEM_COLUMNS: &[(&str, bool, bool)] = &[
    ("createdon", false, false),
    ("modifiedon", false, false),
    ("versionnumber", false, false),
    ("_createdby_value", false, false),
    ("_modifiedby_value", false, false),
    ("_createdonbehalfby_value", false, false),
    ("_modifiedonbehalfby_value", false, false),
    ("_createdbyexternalparty_value", false, false),
    ("_modifiedbyexternalparty_value", false, false),
    ("_owninguser_value", false, false),
    ("_owningteam_value", false, false),
    ("_owningbusinessunit_value", false, false),
    ("overriddencreatedon", true, false),
    ("importsequencenumber", true, false),
];

/// Dataverse columns that entity metadata marks required (`SystemRequired`) but that the service fills
/// on create when they are not sent: the owner (the calling user), and the state and status (the
/// table's defaults). A map need not write them.
pub const FILLED_ON_CREATE: &[&str] = &["_ownerid_value", "statecode", "statuscode"];

/// Dataverse's abstract `principal` (the target of `ownerid`) and the tables an owner is bound to:
/// `"ownerid@odata.bind": "/systemusers(..)"` or `"/teams(..)"`.
pub const PRINCIPAL: &str = "Microsoft.Dynamics.CRM.principal";
pub const PRINCIPAL_TARGETS: &[(&str, &str)] = &[
    ("Microsoft.Dynamics.CRM.systemuser", "systemusers"),
    ("Microsoft.Dynamics.CRM.team", "teams"),
];

/// Dual-write's company table and its key: a company-striped Dataverse table has a lookup to
/// `cdm_company` (`msdyn_company` on account), whose `cdm_companycode` is F&O's `dataAreaId`.
pub const COMPANY_TABLE: &str = "Microsoft.Dynamics.CRM.cdm_company";
pub const COMPANY_KEY: &str = "cdm_companycode";

/// Suffix of the base-currency column Dataverse adds to every money column (`creditlimit_base`): it
/// is computed from the amount and the exchange rate (read-only), and marks its sibling as money.
pub const MONEY_BASE_SUFFIX: &str = "_base";

/// (valid for create, valid for update) of a Dataverse system column.
pub fn system_column(type_name: &str, name: &str) -> Option<(bool, bool)> {
    if !type_name.starts_with(DATAVERSE_NAMESPACE) {
        return None;
    }
    SYSTEM_COLUMNS
        .iter()
        .find(|(column, _, _)| *column == name)
        .map(|(_, create, update)| (*create, *update))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_columns_apply_to_dataverse_only() {
        assert_eq!(
            system_column("Microsoft.Dynamics.CRM.account", "createdon"),
            Some((false, false))
        );
        assert_eq!(
            system_column("Microsoft.Dynamics.CRM.account", "overriddencreatedon"),
            Some((true, false))
        );
        assert_eq!(system_column("Microsoft.Dynamics.CRM.account", "name"), None);
        assert_eq!(
            system_column("Microsoft.Dynamics.DataEntities.CustomerV3", "createdon"),
            None
        );
    }
}
