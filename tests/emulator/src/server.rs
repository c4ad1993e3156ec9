//! The HTTP front: both services on one port under their real roots (`/api/data/v9.2/` and
//! `/data/`), fault injection and Dataverse's service protection limits around them, F&O data events
//! after them, and the admin API under `/_admin/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response as HttpResponse;
use serde_json::{Value, json};

use crate::faults::{Fault, FaultConfig, Injector};
use crate::limits::{Limits, Protection};
use crate::schema::{Flavor, Schema};
use crate::service::{Request, Response, Service};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("cannot listen on {address}: {message}")]
    Listen { address: String, message: String },
}

fn input_error(path: &Path, message: impl Into<String>) -> EmulatorError {
    EmulatorError::Input {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a service from a folder as `dualsync-codegen fetch` writes it (`metadata.xml`, option-set and
/// entity metadata JSON under `optionsets/`), or from one `$metadata` XML file (with an `optionsets/`
/// folder beside it, if any).
pub fn load_service(path: &Path, flavor: Flavor) -> Result<Service, EmulatorError> {
    let (xml_path, folder) = if path.is_dir() {
        let candidate = path.join("metadata.xml");
        let xml = if candidate.is_file() {
            candidate
        } else {
            let mut xmls: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| input_error(path, e.to_string()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "xml"))
                .collect();
            xmls.sort();
            match xmls.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(input_error(
                        path,
                        "expected metadata.xml (or exactly one .xml file) in the folder",
                    ));
                }
            }
        };
        (xml, path.to_path_buf())
    } else {
        (
            path.to_path_buf(),
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    };
    let bytes = std::fs::read(&xml_path).map_err(|e| input_error(&xml_path, e.to_string()))?;
    let document = dualsync_csdl::parse_bytes(&bytes).map_err(|e| input_error(&xml_path, e.to_string()))?;
    let model =
        dualsync_csdl::Model::resolve(vec![document]).map_err(|e| input_error(&xml_path, e.to_string()))?;
    let mut service = Service::new(Schema::from_model(&model, flavor), bytes);
    let optionsets = folder.join("optionsets");
    if let Ok(entries) = std::fs::read_dir(&optionsets) {
        for entry in entries.flatten() {
            let file = entry.path();
            let Some(stem) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let text = std::fs::read_to_string(&file).map_err(|e| input_error(&file, e.to_string()))?;
            service.metadata_json.insert(stem.to_string(), text);
        }
    }
    Ok(service)
}

/// Everything the emulator holds.
pub struct State {
    pub dataverse: Option<Service>,
    pub fo: Option<Service>,
    pub protection: Protection,
    pub injector: Injector,
    pub events: crate::events::Subscriptions,
    pub state_file: Option<PathBuf>,
    saved_versions: (u64, u64),
}

impl State {
    fn service(&mut self, name: &str) -> Option<&mut Service> {
        match name {
            "dataverse" => self.dataverse.as_mut(),
            "fo" => self.fo.as_mut(),
            _ => None,
        }
    }

    fn versions(&self) -> (u64, u64) {
        (
            self.dataverse.as_ref().map_or(0, |s| s.store.version),
            self.fo.as_ref().map_or(0, |s| s.store.version),
        )
    }

    /// Writes every record to the state file (when one is set and something changed).
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = self.state_file.clone() else {
            return Ok(());
        };
        let versions = self.versions();
        if versions == self.saved_versions && path.exists() {
            return Ok(());
        }
        let value = json!({
            "dataverse": self.dataverse.as_ref().map(Service::export),
            "fo": self.fo.as_ref().map(Service::export),
        });
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, value.to_string())?;
        std::fs::rename(&temporary, &path)?;
        self.saved_versions = versions;
        Ok(())
    }
}

/// Loads seed data (`{"dataverse": {"accounts": [..]}, "fo": {"CustomersV3": [..]}}`).
pub fn load_seed(state: &mut State, seed: &Value) -> Result<usize, String> {
    let mut loaded = 0;
    for name in ["dataverse", "fo"] {
        let Some(Value::Object(sets)) = seed.get(name) else {
            continue;
        };
        let service = state
            .service(name)
            .ok_or_else(|| format!("seed data for `{name}`, which is not served"))?;
        for (set, records) in sets {
            let records = records
                .as_array()
                .ok_or_else(|| format!("{name}.{set} is not an array"))?;
            loaded += service.load(set, records)?;
        }
    }
    Ok(loaded)
}

/// A running emulator.
#[derive(Clone)]
pub struct Emulator {
    pub state: Arc<Mutex<State>>,
}

/// A served emulator: its base URL (`http://127.0.0.1:PORT`) and the server task.
pub struct Running {
    pub url: String,
    pub emulator: Emulator,
    pub task: tokio::task::JoinHandle<()>,
    /// The task that saves the state file; it holds the emulator, so it ends with the server.
    persist: tokio::task::AbortHandle,
}

impl Running {
    /// The Dataverse service root.
    pub fn dataverse_root(&self) -> String {
        format!("{}/api/data/v9.2/", self.url)
    }

    /// The F&O service root.
    pub fn fo_root(&self) -> String {
        format!("{}/data/", self.url)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
        self.persist.abort();
    }
}

impl Emulator {
    /// An emulator of the given services.
    pub fn new(dataverse: Option<Service>, fo: Option<Service>) -> Self {
        Emulator {
            state: Arc::new(Mutex::new(State {
                dataverse,
                fo,
                protection: Protection::default(),
                injector: Injector::default(),
                events: crate::events::Subscriptions::default(),
                state_file: None,
                saved_versions: (0, 0),
            })),
        }
    }

    /// Reads services from folders or files (see [`load_service`]).
    pub fn from_paths(dataverse: Option<&Path>, fo: Option<&Path>) -> Result<Self, EmulatorError> {
        let dataverse = dataverse
            .map(|p| load_service(p, Flavor::Dataverse))
            .transpose()?;
        let fo = fo.map(|p| load_service(p, Flavor::Fo)).transpose()?;
        Ok(Emulator::new(dataverse, fo))
    }

    /// Runs `f` with the state locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Every record of entity set `set` of `service` (`dataverse` or `fo`) as stored: what
    /// `GET /_admin/<service>/export` answers for that set, for tests in the same process.
    pub fn rows(&self, service: &str, set: &str) -> Vec<Value> {
        self.with(|s| {
            let service = match service {
                "dataverse" => s.dataverse.as_ref(),
                "fo" => s.fo.as_ref(),
                _ => None,
            };
            service
                .map(|service| service.export())
                .and_then(|all| all.get(set).and_then(Value::as_array).cloned())
                .unwrap_or_default()
        })
    }

    /// Sets the fault injection.
    pub fn set_faults(&self, config: FaultConfig) {
        self.with(|s| s.injector = Injector::new(config));
    }

    /// Sets Dataverse's service protection limits.
    pub fn set_limits(&self, limits: Limits) {
        self.with(|s| {
            s.protection.limits = limits;
            s.protection.reset();
        });
    }

    /// Serves on `address` (e.g. `127.0.0.1:0`) until the task is dropped.
    pub async fn serve(self, address: &str) -> Result<Running, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| EmulatorError::Listen {
                address: address.to_string(),
                message: e.to_string(),
            })?;
        let local: SocketAddr = listener.local_addr().map_err(|e| EmulatorError::Listen {
            address: address.to_string(),
            message: e.to_string(),
        })?;
        let app = axum::Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024))
            .with_state(self.clone());
        let saver = self.clone();
        let persist = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Err(e) = saver.with(State::save) {
                    tracing::warn!("cannot save the state file: {e}");
                }
            }
        })
        .abort_handle();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Running {
            url: format!("http://{local}"),
            emulator: self,
            task,
            persist,
        })
    }
}

fn to_http(response: Response) -> HttpResponse {
    let mut builder = axum::http::Response::builder()
        .status(StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("OData-Version", "4.0");
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Body::from(response.body))
        .unwrap_or_else(|_| HttpResponse::new(Body::empty()))
}

/// An answer whose body breaks off: the client sees the connection drop.
fn broken() -> HttpResponse {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    HttpResponse::new(Body::from_stream(stream))
}

/// The same answer with its body sent in pieces and pauses.
fn slow(response: Response, pause: Duration) -> HttpResponse {
    let mut http = to_http(Response {
        body: Vec::new(),
        ..response.clone()
    });
    let chunks: Vec<Vec<u8>> = response.body.chunks(1024).map(<[u8]>::to_vec).collect();
    let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let chunk = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), rest))
    });
    *http.body_mut() = Body::from_stream(stream);
    http
}

// The closure's error is the answer to send (a fault, a throttle): boxing it would buy nothing.
#[allow(clippy::result_large_err)]
async fn handle(
    axum::extract::State(emulator): axum::extract::State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let path = uri.path().to_string();
    if let Some(admin) = path.strip_prefix("/_admin/") {
        return crate::admin::handle(&emulator, &method, admin, &body);
    }
    let (service_name, below) = if let Some(rest) = path.strip_prefix(Flavor::Dataverse.root()) {
        ("dataverse", rest)
    } else if let Some(rest) = path.strip_prefix(Flavor::Fo.root()) {
        ("fo", rest)
    } else {
        return to_http(Response {
            status: 404,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"no service here: Dataverse is under /api/data/v9.2/, F&O under /data/".to_vec(),
        });
    };
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let request = Request {
        method: method.as_str().to_string(),
        path: crate::text::percent_decode(below, false),
        query: uri.query().map(crate::text::query_pairs).unwrap_or_default(),
        headers: header_pairs,
        body: body.to_vec(),
        origin: format!("http://{host}"),
        caller: headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("anonymous")
            .to_string(),
    };
    // Service protection counts a request from its arrival to its answer (injected latency included),
    // so the concurrent-requests limit is reachable.
    let protected = service_name == "dataverse" && emulator.with(|s| s.dataverse.is_some());
    let arrived = Instant::now();
    if protected {
        let refused = emulator.with(|s| {
            let refusal = s.protection.admit(&request.caller).err()?;
            let service = s.dataverse.as_mut()?;
            service.counters.throttled += 1;
            let mut response = service.error(429, refusal.code, &refusal.message);
            response.headers.push((
                "Retry-After".into(),
                refusal.retry_after.as_secs().max(1).to_string(),
            ));
            Some(response)
        });
        if let Some(response) = refused {
            return to_http(response);
        }
    }
    let (fault, latency) = emulator.with(|s| {
        if s.service(service_name).is_none() {
            return (Fault::None, Duration::ZERO);
        }
        s.injector.decide(&request.method, &path)
    });
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let outcome = emulator.with(|s| {
        let Some(service) = s.service(service_name) else {
            return Err(to_http(Response {
                status: 404,
                headers: Vec::new(),
                body: format!("the {service_name} service is not emulated here").into_bytes(),
            }));
        };
        match &fault {
            Fault::Error { status, retry_after } => {
                service.counters.faults += 1;
                let mut response =
                    service.error(*status, "0x80040216", "An unexpected error occurred (injected).");
                if let Some(seconds) = retry_after {
                    response.headers.push(("Retry-After".into(), seconds.to_string()));
                }
                return Err(to_http(response));
            }
            Fault::ResetBefore => {
                service.counters.faults += 1;
                return Err(broken());
            }
            _ => {}
        }
        let mut changes = Vec::new();
        let response = if request.path == "$batch" && request.method == "POST" {
            service.counters.requests += 1;
            crate::batch::execute(service, &request, &mut changes)
        } else {
            let mut journal = Vec::new();
            service.handle(&request, &mut journal, &mut changes)
        };
        if service_name == "fo" {
            s.events.publish(&changes);
        }
        Ok(response)
    });
    if protected {
        emulator.with(|s| s.protection.finish(&request.caller, arrived.elapsed()));
    }
    match (outcome, fault) {
        (Err(response), _) => response,
        (Ok(_), Fault::ResetAfter) => {
            emulator.with(|s| {
                if let Some(service) = s.service(service_name) {
                    service.counters.faults += 1;
                }
            });
            broken()
        }
        (Ok(response), Fault::SlowBody { pause_ms }) => slow(response, Duration::from_millis(pause_ms)),
        (Ok(response), _) => to_http(response),
    }
}
