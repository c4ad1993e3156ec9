//! Bearer tokens for Dataverse and F&O: OAuth 2.0 client credentials against Microsoft Entra ID, a
//! static token, or none. Tokens are cached per resource until shortly before they expire. Secrets and
//! tokens are [`Secret`]s: they never appear in `Debug` output, errors or logs.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

/// The public cloud's Entra ID authority; sovereign clouds and tests use another.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// A client secret or an access token. `Debug` shows `Secret(***)`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// No `Authorization` header (local servers, tests).
    None,
    /// A bearer token obtained elsewhere (e.g. `az account get-access-token`).
    Static(Secret),
    /// OAuth 2.0 client credentials (an app registration with a client secret).
    ClientCredentials {
        /// e.g. `https://login.microsoftonline.com`.
        authority: String,
        /// Tenant id or domain.
        tenant: String,
        client_id: String,
        client_secret: Secret,
    },
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot reach the token endpoint {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the token endpoint {url} refused the request (HTTP {status}{code}): {description}{hint}")]
    Refused {
        url: String,
        status: u16,
        code: String,
        description: String,
        hint: &'static str,
    },
    #[error("the token endpoint {url} answered without an access token: {message}")]
    Malformed { url: String, message: String },
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Hands out bearer tokens for a resource (a service origin such as `https://contoso.crm.dynamics.com`).
pub struct TokenProvider {
    credentials: Credentials,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Cached>>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// What to tell a user about an Entra ID error code.
fn hint(code: &str, description: &str) -> &'static str {
    if code == "invalid_client" || description.contains("AADSTS7000215") {
        "; the client secret is wrong or expired: create a new one for the app registration"
    } else if description.contains("AADSTS700016") || code == "unauthorized_client" {
        "; no app registration with this client id in this tenant: check --client-id and --tenant"
    } else if description.contains("AADSTS90002") || description.contains("AADSTS900023") {
        "; the tenant does not exist: check --tenant"
    } else if code == "invalid_scope" || description.contains("AADSTS500011") {
        "; the resource is not known to the tenant: check the service URL"
    } else {
        ""
    }
}

/// The longest a token is cached, whatever `expires_in` says (Entra issues 60 to 90 minutes).
const MAX_TOKEN_LIFETIME: u64 = 24 * 3600;

/// When to refresh a token received at `now`. `expires_in` is a number of seconds (Entra sends it as a
/// number, some servers as a string; absent or unreadable: an hour), clamped to a day so that no value
/// (up to `18446744073709551615`) can overflow the clock.
fn refresh_at(now: Instant, expires_in: Option<&serde_json::Value>) -> Instant {
    let lifetime = expires_in
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
        .unwrap_or(3600)
        .min(MAX_TOKEN_LIFETIME);
    // Refresh five minutes early (or at half the lifetime of short tokens).
    let margin = (lifetime / 2).min(300);
    now.checked_add(Duration::from_secs(lifetime - margin))
        .unwrap_or(now)
}

impl TokenProvider {
    /// A provider using `http` for token requests.
    pub fn new(credentials: Credentials, http: reqwest::Client) -> Self {
        TokenProvider {
            credentials,
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A token for `resource` (scope `{resource}/.default`), or `None` without authentication.
    pub async fn token(&self, resource: &str) -> Result<Option<Secret>, AuthError> {
        let (authority, tenant, client_id, client_secret) = match &self.credentials {
            Credentials::None => return Ok(None),
            Credentials::Static(token) => return Ok(Some(token.clone())),
            Credentials::ClientCredentials {
                authority,
                tenant,
                client_id,
                client_secret,
            } => (authority, tenant, client_id, client_secret),
        };
        let resource = resource.trim_end_matches('/');
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.get(resource)
            && Instant::now() < cached.refresh_at
        {
            return Ok(Some(cached.token.clone()));
        }
        let url = format!("{}/{tenant}/oauth2/v2.0/token", authority.trim_end_matches('/'));
        let scope = format!("{resource}/.default");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose()),
            ("scope", scope.as_str()),
        ];
        let response = self
            .http
            .post(&url)
            .timeout(std::time::Duration::from_secs(60))
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Unreachable {
                url: url.clone(),
                message: e.without_url().to_string(),
            })?;
        let status = response.status();
        let body = read_bounded(response, &url).await?;
        // The endpoint's words are outside text: escape control codes and never repeat the secret
        // (a misbehaving endpoint may echo the form body), raw or form-encoded.
        let encoded_secret: String = form_urlencoded_secret(client_secret.expose());
        let secrets = [client_secret.expose(), encoded_secret.as_str()];
        let clean = |text: &str| crate::odata::clean_text(text, &secrets, 500);
        if !status.is_success() {
            let error: TokenError = serde_json::from_slice(&body).unwrap_or(TokenError {
                error: String::new(),
                error_description: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
            let code = clean(&error.error);
            let description = clean(&error.error_description);
            return Err(AuthError::Refused {
                url,
                status: status.as_u16(),
                code: if code.is_empty() {
                    String::new()
                } else {
                    format!(", {code}")
                },
                hint: hint(&code, &description),
                description,
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| AuthError::Malformed {
            url: url.clone(),
            message: clean(&e.to_string()),
        })?;
        let token = Secret::new(parsed.access_token);
        cache.insert(
            resource.to_string(),
            Cached {
                token: token.clone(),
                refresh_at: refresh_at(Instant::now(), parsed.expires_in.as_ref()),
            },
        );
        Ok(Some(token))
    }
}

/// The largest token response read: a token endpoint answers a few kilobytes.
const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;

async fn read_bounded(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, AuthError> {
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|e| AuthError::Unreachable {
            url: url.to_string(),
            message: e.without_url().to_string(),
        })?;
        let Some(chunk) = chunk else { return Ok(body) };
        if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
            return Err(AuthError::Malformed {
                url: url.to_string(),
                message: format!("the answer is larger than {MAX_TOKEN_RESPONSE} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
}

/// The secret as it appears in an `application/x-www-form-urlencoded` body.
fn form_urlencoded_secret(secret: &str) -> String {
    let mut out = String::new();
    for byte in secret.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(byte as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn credentials(server: &MockServer) -> Credentials {
        Credentials::ClientCredentials {
            authority: server.uri(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            client_secret: Secret::new("s3cr3t-value"),
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = Credentials::ClientCredentials {
            authority: DEFAULT_AUTHORITY.into(),
            tenant: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s3cr3t-value"),
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert_eq!(format!("{:?}", Secret::new("x")), "Secret(***)");
    }

    #[test]
    fn huge_expires_in_is_clamped_not_an_overflow() {
        let now = Instant::now();
        let day = Duration::from_secs(MAX_TOKEN_LIFETIME - 300);
        for huge in [
            serde_json::json!(18446744073709551615u64),
            serde_json::json!("18446744073709551615"),
        ] {
            assert_eq!(refresh_at(now, Some(&huge)), now + day);
        }
        assert_eq!(
            refresh_at(now, Some(&serde_json::json!(3599))),
            now + Duration::from_secs(3299)
        );
        assert_eq!(
            refresh_at(now, Some(&serde_json::json!(60))),
            now + Duration::from_secs(30)
        );
        assert_eq!(refresh_at(now, None), now + Duration::from_secs(3300));
    }

    #[tokio::test]
    async fn client_credentials_request_and_cache() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .and(body_string_contains("grant_type=client_credentials"))
            .and(body_string_contains(
                "client_id=11111111-2222-3333-4444-555555555555",
            ))
            .and(body_string_contains("client_secret=s3cr3t-value"))
            .and(body_string_contains(
                "scope=https%3A%2F%2Fcontoso.crm.dynamics.com%2F.default",
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(
                    r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.token"}"#,
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        let provider = TokenProvider::new(credentials(&server), reqwest::Client::new());
        let first = provider
            .token("https://contoso.crm.dynamics.com/")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.expose(), "eyJ.token");
        // Cached: the mock expects exactly one request.
        let second = provider
            .token("https://contoso.crm.dynamics.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second, first);
    }

    #[tokio::test]
    async fn refusals_say_what_to_fix_without_the_secret() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_string(
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
            ))
            .mount(&server)
            .await;
        let provider = TokenProvider::new(credentials(&server), reqwest::Client::new());
        let error = provider
            .token("https://contoso.crm.dynamics.com")
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("HTTP 401, invalid_client"), "{message}");
        assert!(message.contains("client secret is wrong or expired"), "{message}");
        assert!(!message.contains("s3cr3t") && !format!("{error:?}").contains("s3cr3t"));
    }
}
