//! `dualsync.toml`: both services, the state file, engine settings and the maps to run. Every
//! error names the key, and points at it in the file (miette, from toml's spans).

// A configuration error carries the file for miette; it happens once per run, so its size is fine.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dualsync::auth::{Credentials, DEFAULT_AUTHORITY, Secret};
use dualsync::engine::EngineConfig;
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use crate::registry::{self, MapInfo};

/// A wrong or missing setting.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(dualsync::config))]
pub struct ConfigError {
    pub message: String,
    #[source_code]
    pub source_code: Option<NamedSource<String>>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl ConfigError {
    pub fn plain(message: impl Into<String>, help: Option<String>) -> Self {
        ConfigError {
            message: message.into(),
            source_code: None,
            span: None,
            label: String::new(),
            help,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dataverse: Option<Spanned<RawService>>,
    fo: Option<Spanned<RawService>>,
    state: Option<Spanned<RawState>>,
    #[serde(default)]
    engine: RawEngine,
    maps: Option<Spanned<Vec<Spanned<RawMap>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    url: Spanned<String>,
    authority: Option<Spanned<String>>,
    tenant: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    client_secret_env: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    file: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    batch_size: Option<Spanned<i64>>,
    page_size: Option<Spanned<i64>>,
    poll_interval_secs: Option<Spanned<f64>>,
    events_listen: Option<Spanned<String>>,
    events_key_env: Option<Spanned<String>>,
    full_compare_interval_secs: Option<Spanned<f64>>,
    error_threshold: Option<Spanned<f64>>,
    lookup_timeout_secs: Option<Spanned<f64>>,
    max_attempts: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    name: Spanned<String>,
    #[serde(default)]
    companies: Vec<Spanned<String>>,
    fo_events: Option<bool>,
}

/// How a service authenticates (secrets are read from the environment when needed, not here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A bearer token in this environment variable.
    TokenEnv(String),
    ClientSecret {
        authority: String,
        tenant: String,
        client_id: String,
        /// The environment variable holding the client secret.
        secret_env: String,
    },
}

/// One service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service root (`https://org.crm.dynamics.com/api/data/v9.2/`, `https://x.operations.dynamics.com/data/`).
    pub root: String,
    pub auth: Auth,
    /// The key, for errors about the environment (`dataverse`, `fo`).
    pub key: &'static str,
}

/// A map to run.
#[derive(Debug, Clone)]
pub struct MapConfig {
    pub info: MapInfo,
    pub companies: Vec<String>,
    pub fo_events: bool,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub dataverse: ServiceConfig,
    pub fo: ServiceConfig,
    pub state_file: PathBuf,
    pub engine: EngineConfig,
    pub events_listen: Option<String>,
    pub events_key_env: Option<String>,
    pub maps: Vec<MapConfig>,
}

struct Ctx<'a> {
    name: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn error(
        &self,
        span: std::ops::Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ConfigError {
        let span = span.start.min(self.text.len())..span.end.min(self.text.len());
        ConfigError {
            message: format!("{}:{}: {message}", self.name, self.line(span.start)),
            source_code: Some(NamedSource::new(self.name.clone(), self.text.to_string())),
            span: Some(SourceSpan::from(span)),
            label: label.to_string(),
            help,
        }
    }

    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }
}

/// Reads the configuration at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::plain(
            format!("cannot read the configuration {}: {e}", path.display()),
            Some(
                "write a dualsync.toml (README: \"dualsync.toml\") or name one with --config PATH; `dualsync demo` needs none"
                    .into(),
            ),
        )
    })?;
    parse(path, &text)
}

/// Parses a configuration (`path` names it in errors and anchors the state file).
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let ctx = Ctx {
        name: path.display().to_string(),
        text,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        ctx.error(span, message, "here", Some(keys_help()))
    })?;
    let missing = |key: &str, example: &str| ConfigError {
        message: format!("{}: missing `{key}`", ctx.name),
        source_code: Some(NamedSource::new(ctx.name.clone(), text.to_string())),
        span: Some(SourceSpan::from(0..0)),
        label: format!("`{key}` is not set"),
        help: Some(format!("add:\n{example}")),
    };
    let dataverse = raw.dataverse.ok_or_else(|| {
        missing(
            "dataverse",
            "[dataverse]\nurl = \"https://yourorg.crm.dynamics.com\"",
        )
    })?;
    let fo = raw
        .fo
        .ok_or_else(|| missing("fo", "[fo]\nurl = \"https://yourenv.operations.dynamics.com\""))?;
    let dataverse = service(&ctx, "dataverse", dataverse.into_inner())?;
    let fo = service(&ctx, "fo", fo.into_inner())?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let state_file = match raw.state {
        Some(state) => {
            let file = state.into_inner().file;
            if file.get_ref().trim().is_empty() {
                return Err(ctx.error(file.span(), "`state.file` is empty".into(), "a file name", None));
            }
            base.join(file.get_ref())
        }
        None => base.join("dualsync.db"),
    };
    let (engine, events_listen, events_key_env) = engine(&ctx, raw.engine)?;
    let all = registry::all();
    let mut maps: Vec<MapConfig> = Vec::new();
    let Some(list) = raw.maps else {
        return Err(missing(
            "maps",
            "[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n\n[[maps]]\nname = \"CustomersV3ToAccounts\"\ncompanies = [\"usmf\"]\n\n(`dualsync maps` lists them)",
        ));
    };
    let list_span = list.span();
    for entry in list.into_inner() {
        let entry = entry.into_inner();
        let name = &entry.name;
        let Some(info) = registry::find(&all, name.get_ref()) else {
            let similar = registry::similar(&all, name.get_ref());
            let help = if similar.is_empty() {
                "`dualsync maps` lists the maps".to_string()
            } else {
                format!(
                    "did you mean {}? (`dualsync maps` lists the maps)",
                    similar.join(", ")
                )
            };
            return Err(ctx.error(
                name.span(),
                format!("`maps.name`: no map named `{}`", safe(name.get_ref())),
                "unknown map",
                Some(help),
            ));
        };
        if maps.iter().any(|m| m.info.name == info.name) {
            return Err(ctx.error(
                name.span(),
                format!("`maps.name`: map `{}` is listed twice", info.name),
                "listed before",
                None,
            ));
        }
        let mut companies = Vec::new();
        for company in &entry.companies {
            let code = company.get_ref().trim().to_lowercase();
            let valid = !code.is_empty()
                && code.len() <= 8
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(ctx.error(
                    company.span(),
                    format!(
                        "`maps.companies`: `{}` is not a company code",
                        safe(company.get_ref())
                    ),
                    "a company code such as \"usmf\"",
                    Some("F&O company codes (dataAreaId) are 1-8 letters or digits".into()),
                ));
            }
            if info.company.is_none() {
                return Err(ctx.error(
                    company.span(),
                    format!(
                        "`maps.companies`: map `{}` is not per company (its F&O entity is shared)",
                        info.name
                    ),
                    "remove `companies` for this map",
                    None,
                ));
            }
            if !companies.contains(&code) {
                companies.push(code);
            }
        }
        maps.push(MapConfig {
            info: info.clone(),
            companies,
            fo_events: entry.fo_events.unwrap_or(true),
        });
    }
    if maps.is_empty() {
        return Err(ctx.error(
            list_span,
            "`maps` is empty: name at least one map".into(),
            "no map",
            Some("`dualsync maps` lists them".into()),
        ));
    }
    Ok(Config {
        path: path.to_path_buf(),
        dataverse,
        fo,
        state_file,
        engine,
        events_listen,
        events_key_env,
        maps,
    })
}

fn keys_help() -> String {
    "keys: [dataverse] and [fo] (url, tenant, client_id, client_secret_env, token_env, authority), [state] (file), \
     [engine] (batch_size, page_size, poll_interval_secs, events_listen, events_key_env, full_compare_interval_secs, \
     error_threshold, lookup_timeout_secs, max_attempts), [[maps]] (name, companies, fo_events)"
        .into()
}

fn service(ctx: &Ctx<'_>, key: &'static str, raw: RawService) -> Result<ServiceConfig, ConfigError> {
    let url = raw.url.get_ref().trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let parsed = reqwest::Url::parse(url).ok().filter(|u| u.host_str().is_some());
    if !scheme_ok || parsed.is_none() {
        return Err(ctx.error(
            raw.url.span(),
            format!("`{key}.url` is not an http(s) URL"),
            "expected https://...",
            Some(match key {
                "dataverse" => "e.g. url = \"https://yourorg.crm.dynamics.com\"".into(),
                _ => "e.g. url = \"https://yourenv.operations.dynamics.com\"".into(),
            }),
        ));
    }
    let local = parsed
        .as_ref()
        .and_then(|u| {
            u.host_str()
                .map(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]")
        })
        .unwrap_or(false);
    let trimmed = url.trim_end_matches('/');
    let root = match key {
        "dataverse" if trimmed.contains("/api/data/") => format!("{trimmed}/"),
        "dataverse" => format!("{trimmed}/api/data/v9.2/"),
        _ if trimmed.ends_with("/data") => format!("{trimmed}/"),
        _ => format!("{trimmed}/data/"),
    };
    let named = |s: &Option<Spanned<String>>| s.as_ref().map(|v| v.get_ref().trim().to_string());
    let auth = match (
        &raw.tenant,
        &raw.client_id,
        &raw.client_secret_env,
        &raw.token_env,
    ) {
        (None, None, None, None) => {
            if !local {
                return Err(ctx.error(
                    raw.url.span(),
                    format!("`{key}`: no authentication for a service that is not on this machine"),
                    "needs tenant, client_id and client_secret_env (or token_env)",
                    Some(format!(
                        "add to [{key}]: tenant = \"contoso.onmicrosoft.com\", client_id = \"<app id>\", client_secret_env = \"DUALSYNC_{}_SECRET\"",
                        key.to_uppercase()
                    )),
                ));
            }
            Auth::None
        }
        (None, None, None, Some(token)) => Auth::TokenEnv(env_name(ctx, &format!("{key}.token_env"), token)?),
        (tenant, client_id, secret, None) => {
            for (name, value) in [
                ("tenant", tenant),
                ("client_id", client_id),
                ("client_secret_env", secret),
            ] {
                if value.is_none() {
                    return Err(ctx.error(
                        raw.url.span(),
                        format!("`{key}.{name}` is missing (client credentials need tenant, client_id and client_secret_env)"),
                        "in this table",
                        None,
                    ));
                }
                if let Some(v) = value
                    && v.get_ref().trim().is_empty()
                {
                    return Err(ctx.error(v.span(), format!("`{key}.{name}` is empty"), "empty", None));
                }
            }
            let secret = secret
                .as_ref()
                .map(|s| env_name(ctx, &format!("{key}.client_secret_env"), s))
                .transpose()?;
            Auth::ClientSecret {
                authority: named(&raw.authority).unwrap_or_else(|| DEFAULT_AUTHORITY.to_string()),
                tenant: named(tenant).unwrap_or_default(),
                client_id: named(client_id).unwrap_or_default(),
                secret_env: secret.unwrap_or_default(),
            }
        }
        (_, _, _, Some(token)) => {
            return Err(ctx.error(
                token.span(),
                format!("`{key}.token_env` and client credentials (tenant, client_id, client_secret_env) are both set"),
                "one or the other",
                None,
            ));
        }
    };
    Ok(ServiceConfig { root, auth, key })
}

fn env_name(ctx: &Ctx<'_>, key: &str, value: &Spanned<String>) -> Result<String, ConfigError> {
    let name = value.get_ref().trim();
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(ctx.error(
            value.span(),
            format!("`{key}` names an environment variable, and `{}` is not a variable name", safe(name)),
            "the NAME of a variable",
            Some("secrets are never written in dualsync.toml: put the secret in an environment variable and name it here".into()),
        ));
    }
    Ok(name.to_string())
}

type EngineParts = (EngineConfig, Option<String>, Option<String>);

fn engine(ctx: &Ctx<'_>, raw: RawEngine) -> Result<EngineParts, ConfigError> {
    let mut config = EngineConfig::default();
    let int = |v: &Spanned<i64>, key: &str, min: i64, max: i64| -> Result<i64, ConfigError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(ctx.error(
                v.span(),
                format!("`engine.{key}` is {n}: it must be between {min} and {max}"),
                "out of range",
                None,
            ));
        }
        Ok(n)
    };
    let secs = |v: &Spanned<f64>, key: &str, max: f64| -> Result<Duration, ConfigError> {
        let n = *v.get_ref();
        if !n.is_finite() || !(0.0..=max).contains(&n) {
            return Err(ctx.error(
                v.span(),
                format!("`engine.{key}` is {n}: it must be between 0 and {max} seconds"),
                "out of range",
                None,
            ));
        }
        Ok(Duration::from_secs_f64(n))
    };
    if let Some(v) = &raw.batch_size {
        config.batch_size = int(v, "batch_size", 1, 1000)? as usize;
    }
    if let Some(v) = &raw.page_size {
        config.page_size = int(v, "page_size", 1, 10_000)? as u32;
    }
    if let Some(v) = &raw.max_attempts {
        config.max_attempts = int(v, "max_attempts", 1, 1000)? as u32;
    }
    if let Some(v) = &raw.poll_interval_secs {
        config.poll_interval = secs(v, "poll_interval_secs", 86_400.0)?;
    }
    if let Some(v) = &raw.full_compare_interval_secs {
        let d = secs(v, "full_compare_interval_secs", 30.0 * 86_400.0)?;
        config.full_compare_interval = (!d.is_zero()).then_some(d);
    }
    if let Some(v) = &raw.lookup_timeout_secs {
        config.lookup_timeout = secs(v, "lookup_timeout_secs", 30.0 * 86_400.0)?;
    }
    if let Some(v) = &raw.error_threshold {
        let n = *v.get_ref();
        if !(0.0..=1.0).contains(&n) {
            return Err(ctx.error(
                v.span(),
                format!("`engine.error_threshold` is {n}: it is a share between 0 and 1 (0.5 = half of the records)"),
                "out of range",
                None,
            ));
        }
        config.error_threshold = n;
    }
    let listen = match &raw.events_listen {
        Some(v) => {
            let text = v.get_ref().trim();
            if text.parse::<SocketAddr>().is_err() {
                return Err(ctx.error(
                    v.span(),
                    format!(
                        "`engine.events_listen` is `{}`, not an address and port",
                        safe(text)
                    ),
                    "e.g. \"127.0.0.1:8089\" or \"0.0.0.0:8089\"",
                    None,
                ));
            }
            Some(text.to_string())
        }
        None => None,
    };
    let key_env = raw
        .events_key_env
        .as_ref()
        .map(|v| env_name(ctx, "engine.events_key_env", v))
        .transpose()?;
    Ok((config, listen, key_env))
}

impl ServiceConfig {
    /// The credentials, with secrets read from the environment (`offline`: none needed).
    pub fn credentials(&self, offline: bool) -> Result<Credentials, ConfigError> {
        if offline {
            return Ok(Credentials::None);
        }
        let read = |var: &str, key: &str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret::new)
                .ok_or_else(|| {
                    ConfigError::plain(
                        format!(
                            "environment variable `{var}` (named by `{}.{key}`) is not set",
                            self.key
                        ),
                        Some(format!("export {var}=... before running dualsync")),
                    )
                })
        };
        Ok(match &self.auth {
            Auth::None => Credentials::None,
            Auth::TokenEnv(var) => Credentials::Static(read(var, "token_env")?),
            Auth::ClientSecret {
                authority,
                tenant,
                client_id,
                secret_env,
            } => Credentials::ClientCredentials {
                authority: authority.clone(),
                tenant: tenant.clone(),
                client_id: client_id.clone(),
                client_secret: read(secret_env, "client_secret_env")?,
            },
        })
    }
}

impl Config {
    /// The shared secret of the data-event endpoint, from the environment.
    pub fn events_key(&self) -> Result<Option<String>, ConfigError> {
        match &self.events_key_env {
            None => Ok(None),
            Some(var) => std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Some)
                .ok_or_else(|| {
                    ConfigError::plain(
                        format!("environment variable `{var}` (named by `engine.events_key_env`) is not set"),
                        Some(format!("export {var}=... before running dualsync")),
                    )
                }),
        }
    }
}

/// Text from a file or a service, made safe for a terminal: control characters and bidi overrides
/// escaped.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
        if c.is_control() || bidi {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
