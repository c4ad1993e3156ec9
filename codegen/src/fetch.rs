//! `fetch`: reads `$metadata` (and, for Dataverse, the option-set metadata of the tables to generate)
//! from a running service and saves it byte for byte with a manifest, so `generate` and CI work
//! offline from checked-in files.
//!
//! Requests carry the OData headers and a bearer token from [`dualsync::auth::TokenProvider`]; 429, 502,
//! 503, 504 and transport failures are retried with exponential backoff (backon), waiting as long as a
//! `Retry-After` header in seconds asks; option-set requests run with bounded concurrency. Files are
//! written to a scratch folder next to the output and moved into place only when everything succeeded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use dualsync::auth::{AuthError, TokenProvider};
use sha2::{Digest, Sha256};

use crate::csdl::{self, optionsets};
use crate::model::Model;
use crate::select::glob_match;

/// The kind of service, which decides what besides `$metadata` is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Dataverse,
    Fo,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Dataverse => "dataverse",
            Service::Fo => "fo",
        }
    }
}

/// What to fetch and how.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub service: Service,
    /// The service root, e.g. `https://contoso.crm.dynamics.com/api/data/v9.2/`.
    pub url: String,
    pub out: PathBuf,
    /// Fetch Dataverse option-set metadata (ignored for F&O).
    pub option_sets: bool,
    /// Tables whose option sets to fetch (globs over type and entity-set names; none = all).
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Retries per request after the first attempt.
    pub retries: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
    /// Longest `Retry-After` honoured; longer waits are refused as errors.
    pub max_retry_after: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            service: Service::Dataverse,
            url: String::new(),
            out: PathBuf::new(),
            option_sets: true,
            include: Vec::new(),
            exclude: Vec::new(),
            concurrency: 8,
            retries: 5,
            timeout: Duration::from_secs(120),
            progress: true,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// What was fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Files written, relative to the output folder, with their sizes.
    pub files: Vec<(String, usize)>,
    pub requests: usize,
    pub retries: usize,
}

/// Why a fetch failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid service URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{url}: HTTP 401 Unauthorized: the service did not accept the token. {hint}")]
    Unauthorized { url: String, hint: &'static str },
    #[error("{url}: HTTP 403 Forbidden: the token is valid but its identity may not read this. {hint}")]
    Forbidden { url: String, hint: &'static str },
    #[error("{url}: HTTP 404 Not Found: no OData service there. {hint}")]
    NotFound { url: String, hint: &'static str },
    #[error("{url}: HTTP {status} after {attempts} attempt(s){detail}")]
    Status {
        url: String,
        status: u16,
        attempts: usize,
        detail: String,
    },
    #[error("{url}: {message} (after {attempts} attempt(s))")]
    Transport {
        url: String,
        message: String,
        attempts: usize,
    },
    #[error("{url}: the service asks to wait {seconds} s (Retry-After), longer than the {limit} s allowed")]
    WaitTooLong { url: String, seconds: u64, limit: u64 },
    #[error("{url} did not return OData CSDL metadata: {reason}")]
    NotCsdl { url: String, reason: String },
    #[error("{url}: not an attribute-metadata response: {reason}")]
    BadOptionSets { url: String, reason: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

fn hints(service: Service) -> (&'static str, &'static str, &'static str) {
    match service {
        Service::Dataverse => (
            "Check the tenant and client id, and that the environment has an application user for this app registration (Power Platform admin center > Environment > Settings > Application users).",
            "Give the application user a security role that may read metadata (for example System Customizer).",
            "Check the URL: the Dataverse Web API root looks like https://<org>.crm.dynamics.com/api/data/v9.2/ (organization URL and API version).",
        ),
        Service::Fo => (
            "Check the tenant and client id, and that the app is registered in Finance & Operations (System administration > Setup > Microsoft Entra applications) with a user.",
            "Give the user mapped to the Entra application a role that may read data entities.",
            "Check the URL: the F&O OData root looks like https://<environment>.operations.dynamics.com/data/.",
        ),
    }
}

/// The origin (`scheme://host[:port]`) of a URL: the resource a token is requested for.
fn origin(url: &str) -> Result<String, FetchError> {
    let bad = |reason: &str| FetchError::Url {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected http:// or https://"))?;
    if scheme != "https" && scheme != "http" {
        return Err(bad("expected http:// or https://"));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(format!("{scheme}://{host}"))
}

/// The OData error message of a response body, if it is one.
fn odata_error(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let error = &value["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) if !code.is_empty() => format!(": {code}: {message}"),
        (_, Some(message)) => format!(": {message}"),
        _ => String::new(),
    }
}

/// Sends GETs with the OData headers, a token, and retries.
struct Client {
    http: reqwest::Client,
    tokens: TokenProvider,
    resource: String,
    service: Service,
    retries: usize,
    max_retry_after: Duration,
    counters: std::sync::Mutex<(usize, usize)>,
}

impl Client {
    async fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, FetchError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.retries)
            .with_jitter()
            .build();
        let mut attempts = 0;
        loop {
            attempts += 1;
            if let Ok(mut c) = self.counters.lock() {
                c.0 += 1;
                if attempts > 1 {
                    c.1 += 1;
                }
            }
            let token = self.tokens.token(&self.resource).await?;
            let mut request = self
                .http
                .get(url)
                .header("Accept", accept)
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0");
            if let Some(token) = &token {
                request = request.bearer_auth(token.expose());
            }
            let (retry_after, failure) = match request.send().await {
                Err(e) => (
                    None,
                    FetchError::Transport {
                        url: url.to_string(),
                        message: e.without_url().to_string(),
                        attempts,
                    },
                ),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let body = response.bytes().await.map_err(|e| FetchError::Transport {
                        url: url.to_string(),
                        message: e.without_url().to_string(),
                        attempts,
                    })?;
                    let (unauthorized, forbidden, not_found) = hints(self.service);
                    match status {
                        200..=299 => return Ok(body.to_vec()),
                        401 => {
                            return Err(FetchError::Unauthorized {
                                url: url.to_string(),
                                hint: unauthorized,
                            });
                        }
                        403 => {
                            return Err(FetchError::Forbidden {
                                url: url.to_string(),
                                hint: forbidden,
                            });
                        }
                        404 => {
                            return Err(FetchError::NotFound {
                                url: url.to_string(),
                                hint: not_found,
                            });
                        }
                        429 | 502 | 503 | 504 => (
                            retry_after,
                            FetchError::Status {
                                url: url.to_string(),
                                status,
                                attempts,
                                detail: odata_error(&body),
                            },
                        ),
                        _ => {
                            return Err(FetchError::Status {
                                url: url.to_string(),
                                status,
                                attempts,
                                detail: odata_error(&body),
                            });
                        }
                    }
                }
            };
            let Some(delay) = backoff.next() else {
                return Err(failure);
            };
            let delay = match retry_after {
                Some(seconds) if Duration::from_secs(seconds) > self.max_retry_after => {
                    return Err(FetchError::WaitTooLong {
                        url: url.to_string(),
                        seconds,
                        limit: self.max_retry_after.as_secs(),
                    });
                }
                Some(seconds) => Duration::from_secs(seconds),
                None => delay,
            };
            tokio::time::sleep(delay).await;
        }
    }
}

/// Attribute kinds whose option sets Dataverse serves, with the file name part the corpus uses.
const OPTION_SET_KINDS: [&str; 5] = ["Picklist", "MultiSelectPicklist", "State", "Status", "Boolean"];

/// Fetches everything and writes it to `options.out` (replacing what was there) only on success.
pub async fn fetch(options: &FetchOptions, tokens: TokenProvider) -> Result<FetchReport, FetchError> {
    let root = if options.url.ends_with('/') {
        options.url.clone()
    } else {
        format!("{}/", options.url)
    };
    let resource = origin(&root)?;
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .user_agent("dualsync-codegen")
        .build()
        .map_err(|e| FetchError::Transport {
            url: root.clone(),
            message: e.to_string(),
            attempts: 0,
        })?;
    let client = Arc::new(Client {
        http,
        tokens,
        resource,
        service: options.service,
        retries: options.retries,
        max_retry_after: options.max_retry_after,
        counters: std::sync::Mutex::new((0, 0)),
    });
    let metadata_url = format!("{root}$metadata");
    let metadata = client.get(&metadata_url, "application/xml").await?;
    let document = csdl::parse_bytes(&metadata).map_err(|e| FetchError::NotCsdl {
        url: metadata_url.clone(),
        reason: if metadata.trim_ascii_start().starts_with(b"<!DOCTYPE html")
            || metadata.trim_ascii_start().starts_with(b"<html")
        {
            "an HTML page came back (a sign-in page or a portal?)".to_string()
        } else {
            e.to_string()
        },
    })?;
    let mut files: Vec<(String, Vec<u8>)> = vec![("metadata.xml".to_string(), metadata)];
    if options.service == Service::Dataverse && options.option_sets {
        let model = Model::resolve(vec![document]).map_err(|e| FetchError::NotCsdl {
            url: metadata_url.clone(),
            reason: e.to_string(),
        })?;
        let tables = tables(&model, &options.include, &options.exclude);
        let root = root.as_str();
        let requests: Vec<(String, String)> = tables
            .iter()
            .flat_map(|table| {
                OPTION_SET_KINDS.iter().map(move |kind| {
                    (
                        format!("optionsets/{table}.{kind}OptionSetAttribute.json"),
                        format!(
                            "{root}EntityDefinitions(LogicalName='{table}')/Attributes/Microsoft.Dynamics.CRM.{kind}AttributeMetadata?$select=LogicalName&$expand=OptionSet,GlobalOptionSet"
                        ),
                    )
                })
            })
            .collect();
        files.extend(fetch_all(&client, requests, options).await?);
    }
    let (requests, retries) = client.counters.lock().map(|c| *c).unwrap_or((0, 0));
    write_atomically(&options.out, options.service, &root, &files)?;
    Ok(FetchReport {
        files: files.iter().map(|(p, b)| (p.clone(), b.len())).collect(),
        requests,
        retries,
    })
}

/// Dataverse tables (entity types with an entity set) matching the globs.
fn tables(model: &Model, include: &[String], exclude: &[String]) -> Vec<String> {
    let matches =
        |patterns: &[String], names: &[&str]| patterns.iter().any(|p| names.iter().any(|n| glob_match(p, n)));
    let mut out: Vec<String> = model
        .entity_types
        .values()
        .filter(|e| !e.entity_sets.is_empty() && !e.is_abstract)
        .filter(|e| {
            let mut names = vec![e.name.as_str(), e.simple_name.as_str()];
            names.extend(e.entity_sets.iter().map(String::as_str));
            (include.is_empty() || matches(include, &names)) && !matches(exclude, &names)
        })
        .map(|e| e.simple_name.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

async fn fetch_all(
    client: &Arc<Client>,
    requests: Vec<(String, String)>,
    options: &FetchOptions,
) -> Result<Vec<(String, Vec<u8>)>, FetchError> {
    let progress = if options.progress {
        indicatif::ProgressBar::with_draw_target(
            Some(requests.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_message("option sets");
    let limit = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (path, url)) in requests.into_iter().enumerate() {
        let client = Arc::clone(client);
        let limit = Arc::clone(&limit);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let body = client.get(&url, "application/json").await?;
            let table = path
                .trim_start_matches("optionsets/")
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string();
            let text = String::from_utf8_lossy(&body);
            optionsets::parse_option_sets(&text, Some(&table)).map_err(|e| FetchError::BadOptionSets {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            Ok::<_, FetchError>((index, path, body))
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| FetchError::Transport {
            url: String::from("(option-set request)"),
            message: e.to_string(),
            attempts: 0,
        })?;
        results.push(result?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    results.sort_by_key(|(index, _, _)| *index);
    Ok(results.into_iter().map(|(_, path, body)| (path, body)).collect())
}

fn write_error(path: &Path, e: std::io::Error) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes the files and `manifest.json` into a scratch folder, then swaps it into place.
fn write_atomically(
    out: &Path,
    service: Service,
    url: &str,
    files: &[(String, Vec<u8>)],
) -> Result<(), FetchError> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "fetched".into());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
    let scratch = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let mut manifest_files = Vec::new();
    for (path, bytes) in files {
        let target = scratch.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| write_error(&target, e))?;
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        manifest_files.push(serde_json::json!({"path": path, "sha256": hex, "bytes": bytes.len()}));
    }
    let manifest = serde_json::json!({"service": service.name(), "url": url, "files": manifest_files});
    let manifest_path = scratch.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    std::fs::write(&manifest_path, text).map_err(|e| write_error(&manifest_path, e))?;
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| write_error(out, e))?;
    }
    if let Err(e) = std::fs::rename(&scratch, out) {
        let _ = std::fs::rename(&old, out);
        return Err(write_error(out, e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The metadata file and option-set files of a folder written by [`fetch`] (one with a
/// `manifest.json`), for `generate`.
pub fn fetched_inputs(dir: &Path) -> Option<Vec<PathBuf>> {
    if !dir.join("manifest.json").is_file() {
        return None;
    }
    let mut inputs = vec![dir.join("metadata.xml")];
    let mut jsons: Vec<PathBuf> = std::fs::read_dir(dir.join("optionsets"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    jsons.sort();
    inputs.extend(jsons);
    Some(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://contoso.crm.dynamics.com/api/data/v9.2/").unwrap(),
            "https://contoso.crm.dynamics.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/data/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(origin("contoso.crm.dynamics.com").is_err());
        assert!(origin("ftp://x/").is_err());
    }

    #[test]
    fn odata_errors_are_summarized() {
        assert_eq!(
            odata_error(br#"{"error":{"code":"0x80060888","message":"Resource not found"}}"#),
            ": 0x80060888: Resource not found"
        );
        assert_eq!(odata_error(b"<html>"), "");
    }
}
