// A small slice of Microsoft Dataverse (logical names as in Dataverse), served by SAP CAP as OData v4
// at /odata/v4/dataverse/ for the client's interop tests. `modifiedon` is set by CAP on every
// insert and update and is the entity's ETag, so If-Match with a stale ETag gets 412.
@path: '/odata/v4/dataverse'
service DataverseService {

  entity accounts {
    key accountid         : UUID;
        name              : String(160);
        accountnumber     : String(20);
        creditlimit       : Decimal(32, 10);
        revenue           : Decimal(32, 4);
        numberofemployees : Integer;
        donotphone        : Boolean;
        modifiedon        : Timestamp @cds.on.insert: $now @cds.on.update: $now @odata.etag;
        contact_customer_accounts : Association to many contacts on contact_customer_accounts.parentcustomerid = $self;
  }

  entity contacts {
    key contactid         : UUID;
        fullname          : String(160);
        emailaddress1     : String(100);
        parentcustomerid  : Association to accounts;
  }
}
