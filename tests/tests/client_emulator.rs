//! The OData client with the generated bindings against the local emulator (both services, on
//! loopback): what a custom crate does with dualsync — list, get, create, upsert, update with an ETag,
//! delete, `$batch`, change tracking on Dataverse; companies, composite keys and enums on F&O; and the
//! client's retries against the emulator's service protection limits and injected faults.

use std::path::PathBuf;
use std::time::Duration;

use dualsync::auth::{Credentials, Secret};
use dualsync::entity::Patch;
use dualsync::odata::{
    Change, DataverseClient, Error, FinOpsClient, Key, Precondition, Query, TransportConfig,
};
use dualsync_emulator::Emulator;
use dualsync_emulator::faults::{ErrorRate, FaultConfig};
use dualsync_emulator::limits::Limits;
use dualsync_generated::dataverse::{Account, Transactioncurrency};
use dualsync_generated::fo::{CustomerV3, NoYes};
use dualsync_tests::workspace;

fn metadata(file: &str) -> PathBuf {
    workspace().join("generated/metadata").join(file)
}

async fn emulator() -> dualsync_emulator::Running {
    Emulator::from_paths(
        Some(&metadata("dataverse-dualwrite.xml")),
        Some(&metadata("fo-dualwrite.xml")),
    )
    .unwrap()
    .serve("127.0.0.1:0")
    .await
    .unwrap()
}

fn config() -> TransportConfig {
    TransportConfig {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..TransportConfig::default()
    }
}

fn company() -> dualsync::edm::Guid {
    "00000000-0000-4000-8000-00000000c0de".parse().unwrap()
}

fn account_key(number: &str) -> Key<Account> {
    Key::by(Account::ACCOUNTNUMBER, &number.to_string()).and(Account::MSDYN_COMPANY_VALUE, &company())
}

#[tokio::test]
async fn dataverse_reads_writes_batches_and_tracks_changes() {
    let running = emulator().await;
    let client = DataverseClient::new(&running.dataverse_root(), Credentials::None, config()).unwrap();

    // A currency, then accounts bound to it by alternate key.
    let mut eur = Patch::<Transactioncurrency>::new();
    eur.set(Transactioncurrency::ISOCURRENCYCODE, &"EUR".to_string())
        .unwrap();
    eur.set(Transactioncurrency::CURRENCYNAME, &"Euro".to_string())
        .unwrap();
    let created = client.create(&eur, Precondition::None, true).await.unwrap();
    let eur_id = created.record.unwrap().entity().unwrap().transactioncurrencyid;

    // Start change tracking before the writes.
    let tracked = Query::<Account>::new()
        .select(&[&Account::NAME, &Account::ACCOUNTNUMBER])
        .page_size(2);
    let (initial, delta) = client
        .track_changes(&tracked)
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert!(initial.is_empty());

    let mut batch = client.batch();
    let ops = batch.change_set(|set| {
        (1..=5)
            .map(|n| {
                let mut patch = Patch::<Account>::new();
                patch.set(Account::NAME, &format!("Account {n}")).unwrap();
                patch
                    .set(
                        Account::CREDITLIMIT,
                        &format!("{n}000.1234567891").parse().unwrap(),
                    )
                    .unwrap();
                patch
                    .bind_key(
                        Account::TRANSACTIONCURRENCYID_VALUE,
                        "transactioncurrencies",
                        "isocurrencycode='EUR'",
                    )
                    .unwrap();
                set.upsert(&account_key(&format!("A-{n}")), &patch)
            })
            .collect::<Vec<_>>()
    });
    let results = batch.send().await.unwrap();
    assert_eq!(results.failures(), 0, "{:?}", results.into_vec());
    assert_eq!(ops.len(), 5);

    // Read them back in pages of 2, typed and exact.
    let query = Query::<Account>::new()
        .filter(Account::CREDITLIMIT.gt(&"2000".parse().unwrap()))
        .order_by_desc(Account::ACCOUNTNUMBER)
        .page_size(2)
        .count();
    let mut pages = client.list(&query);
    let mut accounts = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        assert!(page.records.len() <= 2);
        accounts.extend(page.records.iter().map(|r| r.entity().unwrap()));
    }
    assert_eq!(pages.count(), Some(4));
    assert_eq!(accounts[0].accountnumber.as_deref(), Some("A-5"));
    assert_eq!(accounts[0].creditlimit.unwrap().to_string(), "5000.1234567891");
    assert_eq!(accounts[0].transactioncurrencyid_value, Some(eur_id));

    // Get, update with the ETag, a stale ETag is a conflict; upsert again updates; delete.
    let record = client.get(&account_key("A-1"), &[]).await.unwrap().unwrap();
    let etag = record.etag().unwrap().to_string();
    let id = record.entity().unwrap().accountid;
    let mut rename = Patch::<Account>::new();
    rename.set(Account::NAME, &"Renamed".to_string()).unwrap();
    client
        .update(&Key::id(&id), &rename, Precondition::Etag(etag.clone()))
        .await
        .unwrap();
    let e = client
        .update(&Key::id(&id), &rename, Precondition::Etag(etag))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    client.upsert(&account_key("A-2"), &rename).await.unwrap();
    client
        .delete(&account_key("A-3"), Precondition::None)
        .await
        .unwrap();
    assert!(client.get(&account_key("A-3"), &[]).await.unwrap().is_none());
    let e = client
        .update(&account_key("A-404"), &rename, Precondition::None)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "update never creates: {e}");

    // The delta: five created (two renamed since), one deleted.
    let (changes, _) = client
        .changes::<Account>(&delta, Some(2))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let upserts = changes.iter().filter(|c| matches!(c, Change::Upsert(_))).count();
    let deletes = changes
        .iter()
        .filter(|c| matches!(c, Change::Deleted { .. }))
        .count();
    assert_eq!((upserts, deletes), (4, 1), "{changes:?}");

    // A failed change set rolls back whole.
    let mut batch = client.batch();
    let (good, bad) = batch.change_set(|set| {
        let mut ok = Patch::<Account>::new();
        ok.set(Account::NAME, &"Never".to_string()).unwrap();
        let mut wrong = Patch::<Account>::new();
        wrong.set_json(Account::NAME, "42".into());
        (
            set.upsert(&account_key("B-1"), &ok),
            set.upsert(&account_key("B-2"), &wrong),
        )
    });
    let results = batch.send().await.unwrap();
    assert!(matches!(results.get(good), Err(Error::RolledBack { .. })));
    assert_eq!(results.get(bad).as_ref().unwrap_err().status(), Some(400));
    assert!(client.get(&account_key("B-1"), &[]).await.unwrap().is_none());
}

#[tokio::test]
async fn fo_companies_composite_keys_and_enums() {
    let running = emulator().await;
    let client = FinOpsClient::new(&running.fo_root(), Credentials::None, config()).unwrap();
    for (company, account, mandatory) in [
        ("usmf", "US-1", NoYes::Yes),
        ("usmf", "US-2", NoYes::No),
        ("demf", "DE-1", NoYes::No),
    ] {
        let mut patch = Patch::<CustomerV3>::new();
        patch.set(CustomerV3::DATA_AREA_ID, &company.to_string()).unwrap();
        patch
            .set(CustomerV3::CUSTOMER_ACCOUNT, &account.to_string())
            .unwrap();
        patch
            .set(CustomerV3::CREDIT_LIMIT_IS_MANDATORY, &mandatory)
            .unwrap();
        let created = client.create(&patch, Precondition::None, false).await.unwrap();
        assert!(created.record.is_some(), "F&O returns the created record");
    }
    let demf = client
        .list(&Query::<CustomerV3>::new().company("demf"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(demf.len(), 1);
    assert_eq!(demf[0].entity().unwrap().customer_account, "DE-1");
    let mandatory = client
        .list(
            &Query::<CustomerV3>::new()
                .cross_company()
                .filter(CustomerV3::CREDIT_LIMIT_IS_MANDATORY.eq(&NoYes::Yes)),
        )
        .collect_all()
        .await
        .unwrap();
    assert_eq!(mandatory.len(), 1);
    let key = Key::by(CustomerV3::DATA_AREA_ID, &"usmf".to_string())
        .and(CustomerV3::CUSTOMER_ACCOUNT, &"US-2".to_string());
    let mut patch = Patch::<CustomerV3>::new();
    patch
        .set(CustomerV3::ORGANIZATION_NAME, &"Litware".to_string())
        .unwrap();
    client.update(&key, &patch, Precondition::None).await.unwrap();
    let record = client.get(&key, &[]).await.unwrap().unwrap().entity().unwrap();
    assert_eq!(record.organization_name.as_deref(), Some("Litware"));
    // No upsert on F&O: an update of a missing key is 404; a create of an existing one names the infolog.
    let missing = Key::by(CustomerV3::DATA_AREA_ID, &"usmf".to_string())
        .and(CustomerV3::CUSTOMER_ACCOUNT, &"US-9".to_string());
    assert!(
        client
            .update(&missing, &patch, Precondition::None)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let mut again = Patch::<CustomerV3>::new();
    again.set(CustomerV3::DATA_AREA_ID, &"usmf".to_string()).unwrap();
    again
        .set(CustomerV3::CUSTOMER_ACCOUNT, &"US-1".to_string())
        .unwrap();
    let e = client
        .create(&again, Precondition::None, false)
        .await
        .unwrap_err();
    assert!(!e.service().unwrap().infolog.is_empty(), "{e}");
}

#[tokio::test]
async fn the_client_rides_out_throttling_and_injected_faults() {
    let running = emulator().await;
    running.emulator.set_limits(Limits {
        window_ms: 1000,
        max_requests: 5,
        ..Limits::default()
    });
    let client = DataverseClient::new(
        &running.dataverse_root(),
        Credentials::Static(Secret::new("token-a")),
        config(),
    )
    .unwrap();
    for _ in 0..12 {
        client
            .list(&Query::<Account>::new().top(1))
            .collect_all()
            .await
            .unwrap();
    }
    let stats = client.transport().stats();
    assert!(stats.throttled >= 1, "{stats:?}");
    running.emulator.set_limits(Limits {
        enabled: false,
        ..Limits::default()
    });
    // 30 % transient errors and lost answers of reads: every read still succeeds.
    running.emulator.set_faults(FaultConfig {
        seed: 3,
        errors: vec![
            ErrorRate {
                status: 429,
                rate: 0.1,
                retry_after: Some(0),
            },
            ErrorRate {
                status: 503,
                rate: 0.1,
                retry_after: None,
            },
        ],
        reset_after_rate: 0.1,
        methods: vec!["GET".into()],
        ..FaultConfig::default()
    });
    for _ in 0..20 {
        client
            .list(&Query::<Account>::new().top(1))
            .collect_all()
            .await
            .unwrap();
    }
    assert!(
        client.transport().stats().retries >= 3,
        "{:?}",
        client.transport().stats()
    );
}
