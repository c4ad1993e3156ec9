//! The OData client against a real third-party server: SAP CAP (`@sap/cds@9`, `@cap-js/sqlite`,
//! in-memory), installed by `.ci/run` into `tests/cap` and started on loopback. CAP pages on its own
//! (its page size is set to 2 here; it ignores `odata.maxpagesize`), sends relative next links,
//! answers 412 on a stale ETag (and 428 without `If-Match`), and rolls back a failed change set.
//! Behaviour notes, with raw requests and answers: `tests/cap/README.md`.

use dualsync::auth::Credentials;
use dualsync::edm::{Decimal, Guid};
use dualsync::entity::Patch;
use dualsync::odata::{Client, Error, Generic, Key, Precondition, Query, TransportConfig};
use dualsync_tests::node_server;

/// The `accounts` entity of `tests/cap/srv/dataverse.cds`, as a user would declare it by hand.
#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(set = "accounts", type_name = "DataverseService.accounts", key("accountid"))]
pub struct Account {
    #[field(name = "accountid", edm = "Edm.Guid", key, not_null)]
    pub accountid: Guid,
    #[field(name = "name", edm = "Edm.String", max_length = 160)]
    pub name: Option<String>,
    #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
    pub accountnumber: Option<String>,
    #[field(name = "creditlimit", edm = "Edm.Decimal", precision = 32, scale = 10)]
    pub creditlimit: Option<Decimal>,
    #[field(name = "numberofemployees", edm = "Edm.Int32")]
    pub numberofemployees: Option<i32>,
    #[field(name = "donotphone", edm = "Edm.Boolean")]
    pub donotphone: Option<bool>,
    #[field(name = "modifiedon", edm = "Edm.DateTimeOffset", read_only, computed)]
    pub modifiedon: Option<dualsync::edm::DateTimeOffset>,
}

fn id(n: u32) -> Guid {
    format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
}

fn account(n: u32, name: &str) -> Patch<Account> {
    let mut patch = Patch::new();
    patch.set(Account::ACCOUNTID, &id(n)).unwrap();
    patch.set(Account::NAME, &name.to_string()).unwrap();
    patch.set(Account::ACCOUNTNUMBER, &format!("A-{n:03}")).unwrap();
    patch
        .set(Account::CREDITLIMIT, &"1250.5".parse().unwrap())
        .unwrap();
    patch.set(Account::NUMBEROFEMPLOYEES, &(n as i32)).unwrap();
    patch
}

#[test]
fn reads_writes_etags_and_batches_against_sap_cap() {
    let Some(server) = node_server(
        "cap",
        "serve.js",
        &[],
        &[("CDS_CONFIG", r#"{"query":{"limit":{"default":2,"max":2}}}"#)],
    ) else {
        return;
    };
    let client = Client::<Generic>::new(&server.url, Credentials::None, TransportConfig::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Create five, one of them with a quote in its name.
        for n in 1..=5 {
            let name = if n == 3 {
                "O'Brien & Co".to_string()
            } else {
                format!("Account {n}")
            };
            let created = client
                .create(&account(n, &name), Precondition::None, true)
                .await
                .unwrap();
            let record = created.record.expect("CAP returns the created record");
            assert!(record.etag().is_some(), "CAP sends an ETag");
            assert_eq!(record.entity().unwrap().accountid, id(n));
        }

        // Server-driven paging (2 a page, relative next links) into the typed struct.
        let mut pages = client.list(&Query::<Account>::new().order_by(Account::ACCOUNTNUMBER).count());
        let mut all = Vec::new();
        let mut page_count = 0;
        while let Some(page) = pages.next_page().await.unwrap() {
            page_count += 1;
            all.extend(page.records.iter().map(|r| r.entity().unwrap()));
        }
        assert_eq!(pages.count(), Some(5));
        assert!(page_count >= 3, "{page_count} pages");
        assert_eq!(all.len(), 5);
        assert_eq!(all[2].name.as_deref(), Some("O'Brien & Co"));
        assert_eq!(all[4].creditlimit.unwrap().to_string(), "1250.5");

        // A filter with a quote and an ampersand, and $select (partial records).
        let found = client
            .list(
                &Query::<Account>::new()
                    .select(&[&Account::ACCOUNTID, &Account::NAME])
                    .filter(Account::NAME.eq(&"O'Brien & Co".to_string())),
            )
            .collect_all()
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(!found[0].has(Account::NUMBEROFEMPLOYEES));

        // Get by key; a missing key is None.
        let key = Key::<Account>::id(&id(2));
        let record = client.get(&key, &[]).await.unwrap().unwrap();
        let etag = record.etag().unwrap().to_string();
        assert!(
            client
                .get(&Key::<Account>::id(&id(99)), &[])
                .await
                .unwrap()
                .is_none()
        );

        // Optimistic concurrency: the current ETag succeeds, the same one again is stale -> 412.
        let mut rename = Patch::<Account>::new();
        rename.set(Account::NAME, &"Renamed".to_string()).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        client
            .update(&key, &rename, Precondition::Etag(etag.clone()))
            .await
            .unwrap();
        let e = client
            .update(&key, &rename, Precondition::Etag(etag))
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{e}");
        // Update-only on a missing record: 404, nothing created.
        let e = client
            .update(&Key::<Account>::id(&id(98)), &rename, Precondition::Exists)
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{e}");

        // A change set that succeeds, and one whose second request fails: CAP rolls it back whole.
        let mut batch = client.batch();
        let (a, b) =
            batch.change_set(|set| (set.create(&account(6, "Six")), set.create(&account(7, "Seven"))));
        let results = batch.send().await.unwrap();
        assert_eq!(results.get(a).as_ref().unwrap().status, 201);
        assert_eq!(results.get(b).as_ref().unwrap().status, 201);

        let mut batch = client.batch();
        let (good, bad) = batch.change_set(|set| {
            let mut too_long = account(9, "x");
            too_long.set_json(Account::NAME, format!("\"{}\"", "n".repeat(161)));
            (set.create(&account(8, "Eight")), set.create(&too_long))
        });
        let results = batch.send().await.unwrap();
        assert!(
            matches!(results.get(good), Err(Error::RolledBack { .. })),
            "{:?}",
            results.get(good)
        );
        let e = results.get(bad).as_ref().unwrap_err();
        assert_eq!(e.status(), Some(400), "{e}");
        assert!(
            client
                .get(&Key::<Account>::id(&id(8)), &[])
                .await
                .unwrap()
                .is_none(),
            "the first create of the failed change set was rolled back"
        );

        // continue-on-error: a failing top-level request does not stop the next ones.
        let mut batch = client.batch();
        batch.continue_on_error();
        let failing = batch.change_set(|set| set.create(&account(1, "duplicate key")));
        let read = batch.get(&Key::<Account>::id(&id(6)));
        let results = batch.send().await.unwrap();
        assert!(results.get(failing).is_err());
        let six = results.get(read).as_ref().unwrap().record::<Account>().unwrap();
        assert_eq!(six.entity().unwrap().name.as_deref(), Some("Six"));

        // Delete (CAP wants a precondition on an entity with an ETag).
        client
            .delete(&Key::<Account>::id(&id(7)), Precondition::Exists)
            .await
            .unwrap();
        assert!(
            client
                .get(&Key::<Account>::id(&id(7)), &[])
                .await
                .unwrap()
                .is_none()
        );
    });
}
