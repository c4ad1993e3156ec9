//! `fetch`: flags to [`dualsync_codegen::fetch`], secrets from the environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, ValueEnum};
use miette::Report;

use dualsync::auth::{Credentials, DEFAULT_AUTHORITY, Secret};
use dualsync_codegen::fetch::{self, FetchOptions, Service};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ServiceArg {
    Dataverse,
    Fo,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AuthArg {
    /// No Authorization header.
    None,
    /// A bearer token read from the environment variable named by --token-env.
    Token,
    /// OAuth 2.0 client credentials against Microsoft Entra ID.
    ClientCredentials,
}

/// Flags of `fetch`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which service the URL points at (Dataverse also has option sets to fetch).
    #[arg(long, value_enum)]
    service: ServiceArg,
    /// The service root, e.g. https://contoso.crm.dynamics.com/api/data/v9.2/ or https://contoso.operations.dynamics.com/data/.
    #[arg(long, value_name = "SERVICE_ROOT")]
    url: String,
    /// Folder to write metadata.xml, optionsets/ and manifest.json to (replaced only when everything succeeded).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Do not fetch Dataverse option sets (servers other than Dataverse have none).
    #[arg(long)]
    no_option_sets: bool,
    /// Fetch option sets only for these tables (globs over table and entity-set names; repeatable).
    #[arg(long = "include", value_name = "GLOB")]
    include: Vec<String>,
    /// Skip these tables (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Authentication.
    #[arg(long, value_enum, default_value = "none")]
    auth: AuthArg,
    /// Environment variable holding the bearer token for --auth token.
    #[arg(long, value_name = "VAR", default_value = "DUALSYNC_TOKEN")]
    token_env: String,
    /// Entra ID tenant (id or domain) for --auth client-credentials.
    #[arg(long)]
    tenant: Option<String>,
    /// Application (client) id of the app registration for --auth client-credentials.
    #[arg(long)]
    client_id: Option<String>,
    /// Environment variable holding the client secret (never pass secrets on the command line).
    #[arg(long, value_name = "VAR", default_value = "DUALSYNC_CLIENT_SECRET")]
    client_secret_env: String,
    /// Entra ID authority (sovereign clouds, tests).
    #[arg(long, default_value = DEFAULT_AUTHORITY)]
    authority: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Retries per request on 429/502/503/504 and network errors.
    #[arg(long, default_value_t = 5)]
    retries: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Time allowed for one request with its retries and waits, in seconds.
    #[arg(long, default_value_t = 600)]
    deadline_secs: u64,
    /// Largest $metadata document accepted, in bytes (default 1 GiB).
    #[arg(long, value_name = "BYTES", default_value_t = fetch::DEFAULT_MAX_METADATA_BYTES)]
    max_metadata_size: u64,
    /// Largest JSON answer accepted, in bytes (default 64 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = fetch::DEFAULT_MAX_JSON_BYTES)]
    max_json_size: u64,
}

fn env_secret(var: &str, what: &str) -> Result<Secret, Report> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
        _ => Err(miette::miette!("{what}: environment variable {var} is not set")),
    }
}

pub fn run(args: Args) -> Result<(), Report> {
    let credentials = match args.auth {
        AuthArg::None => Credentials::None,
        AuthArg::Token => Credentials::Static(env_secret(&args.token_env, "--auth token")?),
        AuthArg::ClientCredentials => Credentials::ClientCredentials {
            authority: args.authority.clone(),
            tenant: args
                .tenant
                .clone()
                .ok_or_else(|| miette::miette!("--auth client-credentials needs --tenant"))?,
            client_id: args
                .client_id
                .clone()
                .ok_or_else(|| miette::miette!("--auth client-credentials needs --client-id"))?,
            client_secret: env_secret(&args.client_secret_env, "--auth client-credentials")?,
        },
    };
    let options = FetchOptions {
        service: match args.service {
            ServiceArg::Dataverse => Service::Dataverse,
            ServiceArg::Fo => Service::Fo,
        },
        url: args.url.clone(),
        out: args.out.clone(),
        option_sets: !args.no_option_sets,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        concurrency: args.concurrency,
        retries: args.retries,
        timeout: Duration::from_secs(args.timeout_secs),
        deadline: Duration::from_secs(args.deadline_secs),
        max_metadata_bytes: args.max_metadata_size,
        max_json_bytes: args.max_json_size,
        progress: true,
        ..FetchOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    let report = runtime
        .block_on(fetch::fetch(&options, credentials))
        .map_err(|e| miette::miette!("{}", dualsync::odata::clean_text(&e.to_string(), &[], 4000)))?;
    let bytes: usize = report.files.iter().map(|(_, b)| b).sum();
    println!(
        "{}: {} file(s), {} bytes ({} request(s), {} retried); nothing else was written",
        args.out.display(),
        report.files.len() + 1,
        bytes,
        report.requests,
        report.retries
    );
    Ok(())
}
