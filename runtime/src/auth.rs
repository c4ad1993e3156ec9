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
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Unreachable {
                url: url.clone(),
                message: e.without_url().to_string(),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| AuthError::Unreachable {
            url: url.clone(),
            message: e.without_url().to_string(),
        })?;
        if !status.is_success() {
            let error: TokenError = serde_json::from_slice(&body).unwrap_or(TokenError {
                error: String::new(),
                error_description: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
            return Err(AuthError::Refused {
                url,
                status: status.as_u16(),
                code: if error.error.is_empty() {
                    String::new()
                } else {
                    format!(", {}", error.error)
                },
                hint: hint(&error.error, &error.error_description),
                description: error.error_description,
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| AuthError::Malformed {
            url: url.clone(),
            message: e.to_string(),
        })?;
        // `expires_in` is a number of seconds (Entra sends it as a number, some servers as a string).
        let lifetime = parsed
            .expires_in
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .unwrap_or(3600);
        // Refresh five minutes early (or at half the lifetime of short tokens).
        let margin = (lifetime / 2).min(300);
        let token = Secret::new(parsed.access_token);
        cache.insert(
            resource.to_string(),
            Cached {
                token: token.clone(),
                refresh_at: Instant::now() + Duration::from_secs(lifetime - margin),
            },
        );
        Ok(Some(token))
    }
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
