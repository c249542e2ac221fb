//! The OpenID Connect adapter: one client per configured provider, discovered at start; the
//! authorization URL (code flow, PKCE S256, state, nonce); the code exchange; the ID token's
//! validation (signature against the provider's JWKS, issuer, audience, nonce, expiry with a small
//! clock-skew allowance); and the RP-initiated logout URL where the provider offers one.
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl,
    Scope, StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::config::{AuthSettings, ClaimMappings, OidcProviderSettings};

/// How far the provider's clock may be from ours when the ID token's expiry and issue time are checked.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// How long a provider may take to answer discovery or the code exchange.
const HTTP_TIMEOUT_SECONDS: u64 = 10;

/// The claims of an ID token beyond the standard ones, kept as JSON so the configured claim mappings
/// (organisations, roles) can be read by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type IdToken = openidconnect::IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The client for one provider as discovery configures it.
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// One configured identity provider (identitetsleverantör), discovered.
pub struct Provider {
    pub name: String,
    pub issuer: String,
    pub claims: ClaimMappings,
    scopes: Vec<String>,
    metadata: ProviderMetadataWithLogout,
    client_id: ClientId,
    /// Redacted in `Debug`; read from the environment variable the configuration names.
    secret: Option<ClientSecret>,
    redirect: RedirectUrl,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Every configured provider (empty in local mode).
#[derive(Debug, Default)]
pub struct Providers {
    list: Vec<Provider>,
}

/// An HTTP client for talking to providers: no redirects followed (a provider's answer is taken as
/// it is, never a hop elsewhere), a timeout, rustls.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(HTTP_TIMEOUT_SECONDS))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for OpenID providers: {e}"))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl Providers {
    /// Reads each provider's discovery document and keys. Any failure stops the start, naming the
    /// provider and its configuration key.
    pub async fn discover(auth: &AuthSettings) -> anyhow::Result<Providers> {
        let http = http_client()?;
        let mut list = Vec::new();
        for (i, p) in auth.oidc.providers.iter().enumerate() {
            list.push(Provider::discover(i, p, &http).await?);
        }
        Ok(Providers { list })
    }

    /// [`Providers::discover`] from synchronous code, inside a Tokio runtime or not: on a thread of
    /// its own with a runtime of its own.
    pub fn discover_blocking(auth: &AuthSettings) -> anyhow::Result<Providers> {
        let auth = auth.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| anyhow::anyhow!("cannot start a runtime for discovery: {e}"))?
                .block_on(Providers::discover(&auth))
        })
        .join()
        .map_err(|_| anyhow::anyhow!("OpenID discovery panicked"))?
    }

    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|p| p.name.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What the browser is sent to the provider with, and what the callback needs to finish.
pub struct Authorization {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What the provider vouched for, from a validated ID token.
#[derive(Debug, Clone)]
pub struct SignInClaims {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub auth_time: Option<DateTime<Utc>>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// Organisation numbers from the configured claim (empty when not configured).
    pub organisations: Vec<String>,
    /// Role codes from the configured claim (empty when not configured).
    pub roles: Vec<String>,
    /// The raw ID token, kept as `id_token_hint` for RP-initiated logout.
    pub id_token: String,
}

/// Why a callback could not be finished. Logged with its detail; the person sees a general page.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the token endpoint refused the code: {0}")]
    Exchange(String),
    #[error("the provider's answer had no ID token")]
    NoIdToken,
    #[error("the ID token was refused: {0}")]
    IdToken(String),
    #[error("{0}")]
    Other(String),
}

impl Provider {
    async fn discover(
        i: usize,
        p: &OidcProviderSettings,
        http: &reqwest::Client,
    ) -> anyhow::Result<Provider> {
        let key = format!("auth.oidc.providers[{i}] (\"{}\")", p.name);
        let issuer = IssuerUrl::new(p.issuer.clone())
            .map_err(|e| anyhow::anyhow!("configuration: {key}.issuer: {e}"))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, http)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "OpenID provider \"{}\" ({key}): discovery at {} failed: {}",
                    p.name,
                    p.issuer,
                    chain(&e)
                )
            })?;
        let secret = if p.client_secret_env.is_empty() {
            None
        } else {
            let v = std::env::var(&p.client_secret_env).map_err(|_| {
                anyhow::anyhow!(
                    "configuration: {key}.client_secret_env: the environment variable {} is not set",
                    p.client_secret_env
                )
            })?;
            if v.is_empty() {
                anyhow::bail!(
                    "configuration: {key}.client_secret_env: the environment variable {} is empty",
                    p.client_secret_env
                );
            }
            Some(ClientSecret::new(v))
        };
        let redirect = RedirectUrl::new(p.redirect_url.clone())
            .map_err(|e| anyhow::anyhow!("configuration: {key}.redirect_url: {e}"))?;
        tracing::info!(provider = %p.name, issuer = %p.issuer, "OpenID provider discovered");
        Ok(Provider {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            claims: p.claims.clone(),
            scopes: p.scopes.clone(),
            metadata,
            client_id: ClientId::new(p.client_id.clone()),
            secret,
            redirect,
        })
    }

    fn client(&self) -> OidcClient {
        OidcClient::from_provider_metadata(
            self.metadata.clone(),
            self.client_id.clone(),
            self.secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The provider's authorization URL for a new sign-in: code flow, PKCE S256, fresh random state
    /// and nonce. A step-up also forces a fresh authentication (`prompt=login`, `max_age=0`).
    pub fn authorize(&self, step_up: bool) -> Authorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut req = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in self.scopes.iter().filter(|s| s.as_str() != "openid") {
            req = req.add_scope(Scope::new(s.clone()));
        }
        if step_up {
            req = req
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(std::time::Duration::from_secs(0));
        }
        let (url, state, nonce) = req.url();
        Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token against `nonce` at
    /// `now` (the injected clock).
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<SignInClaims, OidcError> {
        let http = http_client().map_err(|e| OidcError::Other(e.to_string()))?;
        let client = self.client();
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Other(chain(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&http)
            .await
            .map_err(|e| OidcError::Exchange(chain(&e)))?;
        let id_token = response
            .extra_fields()
            .id_token()
            .ok_or(OidcError::NoIdToken)?;
        self.validate(&client, id_token, nonce, now)
    }

    fn validate(
        &self,
        client: &OidcClient,
        id_token: &IdToken,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<SignInClaims, OidcError> {
        let skew = Duration::seconds(CLOCK_SKEW_SECONDS);
        // The library refuses a token once `now >= exp`: handing it `now - skew` allows the skew.
        let verifier = client
            .id_token_verifier()
            .set_time_fn(move || now - skew)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > now + skew {
                    Err(format!("issued in the future ({iat})"))
                } else {
                    Ok(())
                }
            });
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| OidcError::IdToken(chain(&e)))?;
        let extra = &claims.additional_claims().other;
        let strings = |claim: &str| -> Vec<String> {
            if claim.is_empty() {
                return vec![];
            }
            match extra.get(claim) {
                Some(serde_json::Value::String(s)) => vec![s.clone()],
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            }
        };
        Ok(SignInClaims {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            auth_time: claims.auth_time(),
            acr: claims.auth_context_ref().map(|a| a.to_string()),
            amr: claims
                .auth_method_refs()
                .map(|v| v.iter().map(|a| a.to_string()).collect())
                .unwrap_or_default(),
            organisations: strings(&self.claims.organisations),
            roles: strings(&self.claims.roles),
            id_token: id_token.to_string(),
        })
    }

    /// Where to send the browser after the session is ended here, when the provider offers
    /// RP-initiated logout (`end_session_endpoint`).
    pub fn logout_url(&self, id_token_hint: Option<&str>) -> Option<url::Url> {
        let end = self
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut req = openidconnect::LogoutRequest::from(end).set_client_id(self.client_id.clone());
        if let Some(t) = id_token_hint.and_then(|t| t.parse::<IdToken>().ok()) {
            req = req.set_id_token_hint(&t);
        }
        Some(req.http_get_url())
    }
}
