//! `fetch`: reads `$metadata` (and, for Dataverse, the option-set metadata of the tables to generate)
//! from a running service and saves it byte for byte with a manifest, so `generate` and CI work
//! offline from checked-in files.
//!
//! Every request goes through the runtime's one transport ([`dualsync::odata::Transport`]): token,
//! OData headers, bounded concurrency, retries that honour `Retry-After`, an overall deadline and a
//! size limit per response. Names from the served metadata are hostile: a table name becomes part of a
//! URL or a file name only if it is an OData identifier, and then percent-encoded. Files are written
//! to a scratch folder inside `--out` and moved into place only when everything succeeded; a folder
//! that holds files `fetch` did not write (no `manifest.json`) is never written into.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dualsync::auth::Credentials;
use dualsync::odata::{self, Transport, TransportConfig};
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

    fn kind(self) -> odata::ServiceKind {
        match self {
            Service::Dataverse => odata::ServiceKind::Dataverse,
            Service::Fo => odata::ServiceKind::FinOps,
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
    /// Time allowed for one request, its retries and waits included.
    pub deadline: Duration,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
    /// Longest `Retry-After` honoured; longer waits are refused as errors.
    pub max_retry_after: Duration,
    /// Largest `$metadata` document read (bytes).
    pub max_metadata_bytes: u64,
    /// Largest JSON answer read (bytes).
    pub max_json_bytes: u64,
}

/// Default size limit of `$metadata` (a real F&O document is about 28 MB).
pub const DEFAULT_MAX_METADATA_BYTES: u64 = 1024 * 1024 * 1024;
/// Default size limit of a JSON answer.
pub const DEFAULT_MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

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
            deadline: Duration::from_secs(600),
            progress: true,
            max_retry_after: Duration::from_secs(300),
            max_metadata_bytes: DEFAULT_MAX_METADATA_BYTES,
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
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
    /// A request failed (the transport's error: status, service message, hint, attempts).
    #[error(transparent)]
    Http(#[from] odata::Error),
    #[error("{url} did not return OData CSDL metadata: {reason}")]
    NotCsdl { url: String, reason: String },
    #[error("{url}: not an attribute-metadata response: {reason}")]
    BadOptionSets { url: String, reason: String },
    #[error(
        "the metadata names table `{name}`, which is not an OData identifier: refusing to use it in a URL or a file name"
    )]
    BadName { name: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// Attribute kinds whose option sets Dataverse serves, with the file name part the corpus uses.
const OPTION_SET_KINDS: [&str; 5] = ["Picklist", "MultiSelectPicklist", "State", "Status", "Boolean"];
/// The file of a table's entity metadata, beside its option sets (`account.EntityMetadata.json`).
const ENTITY_METADATA: &str = "EntityMetadata.json";

/// Fetches everything and writes it to `options.out` only on success (see the module docs).
pub async fn fetch(options: &FetchOptions, credentials: Credentials) -> Result<FetchReport, FetchError> {
    let root = if options.url.ends_with('/') {
        options.url.clone()
    } else {
        format!("{}/", options.url)
    };
    // Refuse an output folder we may not write into before asking the service anything.
    let previous = previous_files(&options.out)?;
    let transport = Transport::new(
        &root,
        credentials,
        TransportConfig {
            kind: options.service.kind(),
            max_in_flight: options.concurrency.max(1),
            timeout: options.timeout,
            deadline: options.deadline,
            retries: u32::try_from(options.retries).unwrap_or(u32::MAX),
            max_retry_after: options.max_retry_after,
            max_response_bytes: options.max_json_bytes,
            user_agent: "dualsync-codegen".into(),
            ..TransportConfig::default()
        },
    )?;
    let metadata_url = format!("{root}$metadata");
    let metadata = transport
        .send(
            odata::Request::get(&metadata_url)
                .header(reqwest::header::ACCEPT, "application/xml")
                .max_response_bytes(options.max_metadata_bytes),
        )
        .await?
        .body;
    let document = csdl::parse_bytes(&metadata).map_err(|e| FetchError::NotCsdl {
        url: metadata_url.clone(),
        reason: if metadata.trim_ascii_start().starts_with(b"<!DOCTYPE html")
            || metadata.trim_ascii_start().starts_with(b"<html")
        {
            "an HTML page came back (a sign-in page or a portal?)".to_string()
        } else {
            odata::clean_text(&e.to_string(), &[], 500)
        },
    })?;
    let mut files: Vec<(String, Vec<u8>)> = vec![("metadata.xml".to_string(), metadata)];
    if options.service == Service::Dataverse && options.option_sets {
        let model = Model::resolve(vec![document]).map_err(|e| FetchError::NotCsdl {
            url: metadata_url.clone(),
            reason: odata::clean_text(&e.to_string(), &[], 500),
        })?;
        let tables = tables(&model, &options.include, &options.exclude)?;
        let root = root.as_str();
        let requests: Vec<(String, String)> = tables
            .iter()
            .flat_map(|table| {
                let literal = odata::query::encode_path(&table.replace('\'', "''"));
                // The table's entity metadata: SchemaNames, required levels, create/update
                // validity, lengths, lookup targets (every attribute type's properties, so no
                // `$select` inside `Attributes`) and alternate keys.
                let entity = (
                    format!("optionsets/{table}.{ENTITY_METADATA}"),
                    format!(
                        "{root}EntityDefinitions(LogicalName='{literal}')?$select=LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute&$expand=Attributes,Keys"
                    ),
                );
                OPTION_SET_KINDS
                    .iter()
                    .map(move |kind| {
                        (
                            format!("optionsets/{table}.{kind}OptionSetAttribute.json"),
                            format!(
                                "{root}EntityDefinitions(LogicalName='{literal}')/Attributes/Microsoft.Dynamics.CRM.{kind}AttributeMetadata?$select=LogicalName&$expand=OptionSet,GlobalOptionSet"
                            ),
                        )
                    })
                    .chain(std::iter::once(entity))
            })
            .collect();
        files.extend(fetch_all(&transport, requests, options).await?);
    }
    let stats = transport.stats();
    write_files(&options.out, options.service, &root, &files, &previous)?;
    Ok(FetchReport {
        files: files.iter().map(|(p, b)| (p.clone(), b.len())).collect(),
        requests: usize::try_from(stats.requests).unwrap_or(usize::MAX),
        retries: usize::try_from(stats.retries).unwrap_or(usize::MAX),
    })
}

/// A table name usable in a URL and a file name: an OData identifier of at most 128 bytes.
fn safe_table_name(name: &str) -> Result<&str, FetchError> {
    match odata::query::check_identifier(name) {
        Ok(name) if name.len() <= 128 => Ok(name),
        _ => Err(FetchError::BadName {
            name: odata::clean_text(name, &[], 80),
        }),
    }
}

/// Dataverse tables (entity types with an entity set) matching the globs.
fn tables(model: &Model, include: &[String], exclude: &[String]) -> Result<Vec<String>, FetchError> {
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
        .map(|e| safe_table_name(&e.simple_name).map(str::to_string))
        .collect::<Result<_, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

async fn fetch_all(
    transport: &Transport,
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
    // The transport holds the concurrency limit; a task per request waits for its turn there.
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (path, url)) in requests.into_iter().enumerate() {
        let transport = transport.clone();
        tasks.spawn(async move {
            let body = transport.send(odata::Request::get(&url)).await?.body;
            let table = path
                .trim_start_matches("optionsets/")
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string();
            let text = String::from_utf8_lossy(&body);
            optionsets::parse_option_sets(&text, Some(&table)).map_err(|e| FetchError::BadOptionSets {
                url: url.clone(),
                reason: odata::clean_text(&e.to_string(), &[], 300),
            })?;
            Ok::<_, FetchError>((index, path, body))
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let result =
            joined.map_err(|e| odata::Error::Invalid(format!("an option-set request failed: {e}")))?;
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

/// A path `fetch` writes: `metadata.xml`, `manifest.json`, or `optionsets/<identifier>.<kind>....json`.
fn is_fetch_path(path: &str) -> bool {
    if path == "metadata.xml" || path == "manifest.json" {
        return true;
    }
    let Some(name) = path.strip_prefix("optionsets/") else {
        return false;
    };
    let Some((table, rest)) = name.split_once('.') else {
        return false;
    };
    safe_table_name(table).is_ok()
        && (rest == ENTITY_METADATA
            || OPTION_SET_KINDS
                .iter()
                .any(|k| rest == format!("{k}OptionSetAttribute.json")))
}

/// The files a previous fetch wrote into `out` (from its manifest). A folder with other content and
/// no manifest, or a file, is refused: fetch never deletes or overwrites what it did not write.
fn previous_files(out: &Path) -> Result<Vec<String>, FetchError> {
    let refuse = |message: &str| FetchError::Write {
        path: out.to_path_buf(),
        message: message.to_string(),
    };
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(write_error(out, e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(refuse(
                "exists and is not a folder; choose a folder for the fetched files",
            ));
        }
        Ok(_) => {}
    }
    let manifest = out.join("manifest.json");
    if !manifest.is_file() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| write_error(out, e))?
            .next()
            .is_none();
        return if empty {
            Ok(Vec::new())
        } else {
            Err(refuse(
                "holds files that fetch did not write (no manifest.json); choose a new or empty folder",
            ))
        };
    }
    let too_big = std::fs::metadata(&manifest)
        .map_err(|e| write_error(&manifest, e))?
        .len()
        > 16 * 1024 * 1024;
    if too_big {
        return Err(refuse(
            "has a manifest.json larger than 16 MiB; remove the folder or choose another",
        ));
    }
    let text = std::fs::read(&manifest).map_err(|e| write_error(&manifest, e))?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|_| {
        refuse("has a manifest.json that fetch cannot read; remove the folder or choose another")
    })?;
    Ok(value["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["path"].as_str())
                .filter(|p| is_fetch_path(p))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// Removes the scratch folder on every way out.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the files and `manifest.json` into a scratch folder inside `out`, then moves each into
/// place and removes files of the previous fetch that are no longer produced.
fn write_files(
    out: &Path,
    service: Service,
    url: &str,
    files: &[(String, Vec<u8>)],
    previous: &[String],
) -> Result<(), FetchError> {
    std::fs::create_dir_all(out).map_err(|e| write_error(out, e))?;
    let scratch = Scratch(out.join(format!(".dualsync-fetch-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let mut manifest_files = Vec::new();
    let mut all: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len() + 1);
    for (path, bytes) in files {
        if !is_fetch_path(path) {
            return Err(FetchError::BadName { name: path.clone() });
        }
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        manifest_files.push(serde_json::json!({"path": path, "sha256": hex, "bytes": bytes.len()}));
        all.push((path.clone(), bytes.clone()));
    }
    let manifest = serde_json::json!({"service": service.name(), "url": url, "files": manifest_files});
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    // The manifest goes last: a folder with a manifest is complete.
    all.push(("manifest.json".to_string(), text.into_bytes()));
    for (path, bytes) in &all {
        let target = scratch.0.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| write_error(&target, e))?;
    }
    for (path, _) in &all {
        let target = out.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        std::fs::rename(scratch.0.join(path), &target).map_err(|e| write_error(&target, e))?;
    }
    for old in previous {
        if !all.iter().any(|(p, _)| p == old) {
            let _ = std::fs::remove_file(out.join(old));
        }
    }
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
    fn only_fetch_paths_are_touched() {
        assert!(is_fetch_path("metadata.xml"));
        assert!(is_fetch_path(
            "optionsets/account.PicklistOptionSetAttribute.json"
        ));
        assert!(!is_fetch_path(
            "optionsets/../../x.PicklistOptionSetAttribute.json"
        ));
        assert!(!is_fetch_path("src/main.rs"));
        assert!(!is_fetch_path("optionsets/account.Evil.json"));
        assert!(safe_table_name("../../../../tmp/x/PWNED").is_err());
        assert!(safe_table_name(&"a".repeat(200)).is_err());
    }
}
