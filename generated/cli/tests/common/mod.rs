//! What the engine tests of the generated maps share: both services of the emulator, loaded from
//! the committed metadata and served on loopback, and clients of them with short back-offs.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use dualsync::auth::Credentials;
use dualsync::engine::Services;
use dualsync::odata::{DataverseClient, FinOpsClient, TransportConfig};
use dualsync_emulator::Running;
use dualsync_emulator::schema::Flavor;
use dualsync_emulator::service::Service;
use dualsync_emulator::{Emulator, load_seed};

/// A file of `generated/metadata`.
pub fn metadata(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../metadata")
        .join(file)
}

/// Both services as the committed metadata declares them (Dataverse, F&O).
pub fn services_of_metadata() -> (Service, Service) {
    let dv =
        dualsync_emulator::load_service(&metadata("dataverse-dualwrite.xml"), Flavor::Dataverse).unwrap();
    let fo = dualsync_emulator::load_service(&metadata("fo-dualwrite.xml"), Flavor::Fo).unwrap();
    (dv, fo)
}

/// The emulator of both services on a loopback port.
pub async fn serve(dv: Service, fo: Service) -> Running {
    Emulator::new(Some(dv), Some(fo))
        .serve("127.0.0.1:0")
        .await
        .unwrap()
}

/// The emulator of the committed metadata, holding `seed` (`{"dataverse": {set: [..]}, "fo": ..}`).
pub async fn serve_seeded(seed: &serde_json::Value) -> Running {
    let (dv, fo) = services_of_metadata();
    let running = serve(dv, fo).await;
    running.emulator.with(|s| load_seed(s, seed)).unwrap();
    running
}

/// Clients of both services of `running`, retrying quickly.
pub fn clients(running: &Running) -> Services {
    let transport = TransportConfig {
        min_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..TransportConfig::default()
    };
    Services {
        dataverse: DataverseClient::new(&running.dataverse_root(), Credentials::None, transport.clone())
            .unwrap(),
        fo: FinOpsClient::new(&running.fo_root(), Credentials::None, transport).unwrap(),
    }
}
