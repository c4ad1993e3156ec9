//! The OData client with the generated Dataverse bindings against a second third-party server: SAP's
//! `@sap-ux/fe-mockserver-core` serving the dual-write Dataverse document (`generated/metadata`) with
//! seed data (`tests/mockserver/seed-dataverse`). What it does and does not do (no server paging, no
//! upsert of a missing key, no change-set rollback, no ETags by default) is in
//! `tests/mockserver/README-dataverse.md`; this test covers what it does: reads into the generated
//! structs, `$select`, `$filter`, keys and alternate keys, exact decimals, writes and `$batch`.

use dualsync::auth::Credentials;
use dualsync::entity::Patch;
use dualsync::odata::{DataverseClient, Error, Key, Precondition, Query, TransportConfig};
use dualsync_generated::dataverse::Account;
use dualsync_tests::{node_server, workspace};

#[test]
fn generated_dataverse_types_against_fe_mockserver() {
    let document = workspace().join("generated/metadata/dataverse-dualwrite.xml");
    let seed = workspace().join("tests/mockserver/seed-dataverse");
    let Some(server) = node_server(
        "mockserver",
        "serve-seeded.js",
        &[
            document.to_str().unwrap(),
            "/api/data/v9.2",
            seed.to_str().unwrap(),
        ],
        &[],
    ) else {
        return;
    };
    let root = format!("{}/api/data/v9.2/", server.url);
    let client = DataverseClient::new(&root, Credentials::None, TransportConfig::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Every seeded account decodes into the generated struct (145 columns, most null).
        let all = client
            .list(&Query::<Account>::new().page_size(5000))
            .collect_all()
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
        let accounts: Vec<Account> = all.iter().map(|r| r.entity().unwrap()).collect();
        let contoso = accounts
            .iter()
            .find(|a| a.accountnumber.as_deref() == Some("A-001"))
            .unwrap();
        assert_eq!(
            contoso.creditlimit.unwrap().to_string(),
            "1234.5678",
            "decimals kept exactly"
        );
        assert_eq!(contoso.name.as_deref(), Some("Contoso Pharmaceuticals"));

        // $select gives partial records; $filter with an ampersand and non-ASCII text (fe-mockserver's
        // filter parser does not take a doubled quote inside a literal; CAP's test covers quotes).
        let found = client
            .list(
                &Query::<Account>::new()
                    .select(&[&Account::ACCOUNTID, &Account::NAME])
                    .filter(Account::NAME.eq(&"City Power & Light".to_string()))
                    .filter(Account::ADDRESS1_CITY.ne(&"München".to_string())),
            )
            .collect_all()
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            !found[0].has(Account::CREDITLIMIT),
            "not selected: absent, not null"
        );
        let ordered = client
            .list(&Query::<Account>::new().order_by_desc(Account::NAME).top(3))
            .collect_all()
            .await
            .unwrap();
        assert_eq!(
            ordered[0].get(Account::NAME).unwrap().as_deref(),
            Some("Wide World Importers")
        );

        // By key and by alternate key.
        let id = "a0000000-0000-4000-8000-000000000002".parse().unwrap();
        let fabrikam = client.get(&Key::<Account>::id(&id), &[]).await.unwrap().unwrap();
        assert_eq!(fabrikam.entity().unwrap().accountnumber.as_deref(), Some("A-002"));
        let by_number = Key::by(Account::ACCOUNTNUMBER, &"A-005".to_string());
        let city_power = client.get(&by_number, &[]).await.unwrap().unwrap();
        assert_eq!(
            city_power.get(Account::NAME).unwrap().as_deref(),
            Some("City Power & Light")
        );

        // Create, then update through the alternate key (an upsert of an existing record).
        let mut patch = Patch::<Account>::new();
        patch.set(Account::NAME, &"Trey Research".to_string()).unwrap();
        patch.set(Account::ACCOUNTNUMBER, &"A-100".to_string()).unwrap();
        patch
            .set(Account::CREDITLIMIT, &"77.0001".parse().unwrap())
            .unwrap();
        let created = client.create(&patch, Precondition::None, true).await.unwrap();
        assert!(created.entity_id.is_some());
        let mut rename = Patch::<Account>::new();
        rename
            .set(Account::NAME, &"Trey Research Ltd".to_string())
            .unwrap();
        client
            .upsert(&Key::by(Account::ACCOUNTNUMBER, &"A-100".to_string()), &rename)
            .await
            .unwrap();
        let trey = client
            .get(&Key::by(Account::ACCOUNTNUMBER, &"A-100".to_string()), &[])
            .await
            .unwrap()
            .unwrap()
            .entity()
            .unwrap();
        assert_eq!(trey.name.as_deref(), Some("Trey Research Ltd"));
        assert_eq!(trey.creditlimit.unwrap().to_string(), "77.0001");
        // An update of a missing record is a typed 404 (never a create).
        let missing = Key::<Account>::id(&"a0000000-0000-4000-8000-0000000000ff".parse().unwrap());
        let e = client
            .update(&missing, &rename, Precondition::None)
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{e}");

        // $batch: a change set of two creates, each answer matched to its request by Content-ID.
        let mut batch = client.batch();
        batch.relative_urls(true);
        let mut first = Patch::<Account>::new();
        first.set(Account::ACCOUNTNUMBER, &"B-1".to_string()).unwrap();
        let mut second = Patch::<Account>::new();
        second.set(Account::ACCOUNTNUMBER, &"B-2".to_string()).unwrap();
        let (a, b) = batch.change_set(|set| (set.create(&first), set.create(&second)));
        let read = batch.get(&Key::<Account>::id(&id));
        let results = batch.send().await.unwrap();
        for op in [a, b] {
            assert!((200..300).contains(&results.get(op).as_ref().unwrap().status));
        }
        let record = results.get(read).as_ref().unwrap().record::<Account>().unwrap();
        assert_eq!(
            record.get(Account::ACCOUNTNUMBER).unwrap().as_deref(),
            Some("A-002")
        );

        // A change set whose second request fails is answered with that request's error alone: the
        // client reports it on that request and the other as rolled back (fe-mockserver itself does
        // not roll back, see its README; CAP's test checks real atomicity).
        let mut batch = client.batch();
        batch.relative_urls(true);
        let (ok, failing) = batch.change_set(|set| {
            (
                set.create(&first),
                set.update(&missing, &rename, Precondition::None),
            )
        });
        let results = batch.send().await.unwrap();
        assert_eq!(results.get(failing).as_ref().unwrap_err().status(), Some(404));
        assert!(matches!(results.get(ok), Err(Error::RolledBack { .. })));
    });
}
