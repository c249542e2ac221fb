//! Typed settings: the `config/default.toml` compiled into the binary, then that file in the
//! configuration folder if there is one, an optional `<folder>/<SAMVERKAN_ENV>.toml`, then
//! `SAMVERKAN__SECTION__KEY` environment overrides, checked at start with an error that names the
//! key and the problem. The binary therefore starts from any folder.
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub api: ApiSettings,
    pub log: LogSettings,
    pub audit: AuditSettings,
    pub mail: MailSettings,
    #[serde(default)]
    pub signing: SigningSettings,
    /// Documents and attachments of a case (issue 16): where their bytes are kept and how large one
    /// may be.
    #[serde(default)]
    pub documents: DocumentSettings,
    /// Outbound events (issue 16, item 8): how the webhook worker sends and retries.
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// From `SAMVERKAN_ADDR`.
    #[serde(skip)]
    pub addr: String,
    /// From `DATABASE_URL`.
    #[serde(skip)]
    pub database_url: String,
    /// The configuration folder; the rulebook lives in its `rulebook/` folder.
    #[serde(skip)]
    pub config_dir: std::path::PathBuf,
    /// From `SAMVERKAN_TEMPLATES_DIR`: the contract templates (default `contract-templates`).
    #[serde(skip)]
    pub templates_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub max_body_bytes: usize,
    pub workers: usize,
    /// Threads each worker runs blocking work on (database work off the async workers); 0: two per
    /// pooled connection. Database work needs a connection, so more threads than that only wait at
    /// the pool, each with its stack and its own allocator arena (issue 10: RSS under load).
    #[serde(default)]
    pub blocking_threads: usize,
    /// Origins (scheme://host[:port]) a browser may call the API from; empty: CORS closed.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// The address people reach the service at, scheme://host[:port] with no trailing slash: the links
    /// in mail, and in oidc mode the CSRF Origin check, the callback address and the cookie (an https
    /// address gives the `__Host-` cookie with `Secure`).
    /// Empty: in oidc mode the origin of the first provider's `redirect_url`, else `http://` and the
    /// bound address (see [`Settings::public_url`]).
    #[serde(default)]
    pub public_url: String,
    /// The reverse proxies (IP addresses) whose `X-Forwarded-For` is believed for the client address a
    /// signature's evidence records; empty: the socket's peer address only.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

/// Signing the agreement (issue 14).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSettings {
    /// Days from sending an envelope until it expires unsigned.
    pub expiry_days: i64,
    /// A signature needs a sign-in no older than this many minutes.
    pub fresh_login_minutes: i64,
    /// The organisation's seal for executed agreements: a PEM file (PKCS#8 P-256 key, then its
    /// certificate). Empty: `seal-key.pem` in the data folder (as the audit key), generated there on
    /// first start.
    #[serde(default)]
    pub seal_key_file: String,
    /// The organisation named in a generated seal's certificate.
    #[serde(default = "default_seal_organisation")]
    pub seal_organisation: String,
    /// External e-signature services that report signatures by Standard Webhooks
    /// (`[[signing.providers]]`); their events arrive at
    /// `POST /api/v1/signing/providers/{name}/events`.
    pub providers: Vec<SigningProviderSettings>,
    /// An RFC 3161 timestamp authority (plain `http://`: its answer is signed by itself) asked for
    /// a signature time-stamp token for every seal. Empty: seals carry none.
    #[serde(default)]
    pub tsa_url: String,
    /// For an `https://` authority: a PEM file of the CA certificates its server certificate must
    /// chain to (only these are trusted). Empty: the Mozilla roots (webpki-roots).
    #[serde(default)]
    pub tsa_ca_file: String,
    /// The request that completes an envelope seals the executed agreement right after its commit
    /// (outside any transaction) before it answers; `false`: the seal worker does it.
    pub seal_after_commit: bool,
    /// This instance runs the seal worker (a thread), which takes up every pending seal job: one
    /// left by a crash, a failed attempt, or a request that did not seal.
    pub seal_worker: bool,
    /// How often the seal worker looks for pending seal jobs (milliseconds).
    pub seal_poll_interval_ms: u64,
    /// Seconds a claimed seal job stays with the instance sealing it before another may take it.
    pub seal_lease_seconds: u64,
}

fn default_seal_organisation() -> String {
    "Samverkan".into()
}

/// The name of a generated seal key in the data folder.
pub const SEAL_KEY_FILE_NAME: &str = "seal-key.pem";

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            expiry_days: 30,
            fresh_login_minutes: 15,
            seal_key_file: String::new(),
            seal_organisation: default_seal_organisation(),
            providers: vec![],
            tsa_url: String::new(),
            tsa_ca_file: String::new(),
            seal_after_commit: true,
            seal_worker: true,
            seal_poll_interval_ms: 2000,
            seal_lease_seconds: 120,
        }
    }
}

/// Where documents' bytes are kept (`documents.store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStoreKind {
    /// In the database, a blob table (the default: one backup holds everything).
    Database,
    /// Files in `documents.directory`, named by their SHA-256.
    Directory,
    /// Objects in an S3-compatible bucket (`[documents.s3]`).
    S3,
}

/// `[documents]`: uploads to a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// `database` (default) or `directory`.
    #[serde(default = "default_document_store")]
    pub store: DocumentStoreKind,
    /// The folder of the `directory` store.
    #[serde(default = "default_document_directory")]
    pub directory: String,
    /// The largest document accepted, in bytes (20 MiB by default); an upload is refused as soon as it
    /// passes this, while it is read.
    #[serde(default = "default_document_max_bytes")]
    pub max_bytes: usize,
    /// The `s3` store: an S3-compatible bucket (`[documents.s3]`).
    #[serde(default)]
    pub s3: S3Settings,
}

fn default_document_store() -> DocumentStoreKind {
    DocumentStoreKind::Database
}

fn default_document_directory() -> String {
    "/var/lib/samverkan/documents".into()
}

fn default_document_max_bytes() -> usize {
    20 * 1024 * 1024
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings {
            store: default_document_store(),
            directory: default_document_directory(),
            max_bytes: default_document_max_bytes(),
            s3: S3Settings::default(),
        }
    }
}

impl DocumentSettings {
    /// The largest `documents.max_bytes`: 1 GiB (the database store keeps a document in one value).
    pub const MAX: usize = 1024 * 1024 * 1024;

    fn validate(&self) -> anyhow::Result<()> {
        if !(1..=Self::MAX).contains(&self.max_bytes) {
            anyhow::bail!("configuration: documents.max_bytes: must be between 1 and 1073741824");
        }
        if self.store == DocumentStoreKind::Directory && self.directory.trim().is_empty() {
            anyhow::bail!("configuration: documents.directory: the directory store needs a folder");
        }
        if self.store == DocumentStoreKind::S3 {
            self.s3.validate()?;
        }
        Ok(())
    }
}

/// A secret read from the environment or a file: never in a configuration file, and never printed
/// (`Debug` shows `[redacted]`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that signs with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[none]"
        } else {
            "[redacted]"
        })
    }
}

/// `[documents.s3]`: the `s3` store, an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Garage, ...),
/// spoken to with AWS Signature Version 4 in the `Authorization` header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The service's address, `https://host[:port]` (no path), e.g.
    /// `https://s3.eu-north-1.amazonaws.com` or `https://minio.internal:9000`.
    pub endpoint: String,
    /// The signing region, e.g. `eu-north-1` (MinIO and most others accept `us-east-1`).
    pub region: String,
    /// The bucket; it must exist (samverkan never creates one).
    pub bucket: String,
    /// Put before every object key, e.g. `samverkan/documents/`: letters, digits, `-`, `_`, `.`
    /// and `/`, not starting with `/`.
    pub prefix: String,
    /// The access key id (not secret: it names the key).
    pub access_key_id: String,
    /// The environment variable holding the secret access key (read at start).
    pub secret_access_key_env: String,
    /// A file holding the secret access key, read at start when the variable is not set.
    pub secret_access_key_file: String,
    /// `true`: `endpoint/bucket/key` (MinIO, most self-hosted stores); `false`:
    /// `bucket.endpoint/key` (AWS's virtual-hosted style).
    pub path_style: bool,
    /// The longest one request to the store may take, in seconds.
    pub timeout_seconds: u64,
    /// The secret access key, from `secret_access_key_env` or `secret_access_key_file`.
    #[serde(skip)]
    pub secret_access_key: Secret,
}

/// The default of `documents.s3.secret_access_key_env`.
pub const DEFAULT_S3_SECRET_ENV: &str = "SAMVERKAN_S3_SECRET_ACCESS_KEY";

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: "documents/".into(),
            access_key_id: String::new(),
            secret_access_key_env: DEFAULT_S3_SECRET_ENV.into(),
            secret_access_key_file: String::new(),
            path_style: false,
            timeout_seconds: 30,
            secret_access_key: Secret::default(),
        }
    }
}

impl S3Settings {
    /// Reads the secret access key: the variable `secret_access_key_env` when it is set and not
    /// empty, else the file `secret_access_key_file` (one line; the line break is not part of it).
    pub fn load_secret(&mut self) -> anyhow::Result<()> {
        if !self.secret_access_key_env.is_empty() {
            if let Ok(v) = std::env::var(&self.secret_access_key_env) {
                if !v.trim().is_empty() {
                    self.secret_access_key = Secret::new(v.trim());
                    return Ok(());
                }
            }
        }
        if !self.secret_access_key_file.is_empty() {
            let text = std::fs::read_to_string(&self.secret_access_key_file).map_err(|e| {
                anyhow::anyhow!(
                    "configuration: documents.s3.secret_access_key_file: cannot read {}: {e}",
                    self.secret_access_key_file
                )
            })?;
            self.secret_access_key = Secret::new(text.trim());
        }
        Ok(())
    }

    /// Checks the `s3` store's keys, naming the one at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        let fail = |key: &str, why: String| {
            Err(anyhow::anyhow!("configuration: documents.s3.{key}: {why}"))
        };
        match url::Url::parse(self.endpoint.trim()) {
            Err(e) => {
                return fail(
                    "endpoint",
                    format!("the s3 store needs an address such as https://s3.eu-north-1.amazonaws.com ({e})"),
                )
            }
            Ok(u) => {
                if !matches!(u.scheme(), "http" | "https") {
                    return fail("endpoint", "must start with https:// or http://".into());
                }
                if u.host_str().is_none_or(str::is_empty) {
                    return fail("endpoint", "names no host".into());
                }
                if !u.username().is_empty() || u.password().is_some() {
                    return fail(
                        "endpoint",
                        "must not hold credentials (use access_key_id and the secret)".into(),
                    );
                }
                if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
                    return fail("endpoint", "must be scheme://host[:port] with no path".into());
                }
            }
        }
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 64
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return fail(
                "region",
                "lower-case letters, digits and -, e.g. eu-north-1".into(),
            );
        }
        let b = self.bucket.as_bytes();
        let bucket_ok = (3..=63).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
            && !self.bucket.contains("..");
        if !bucket_ok {
            return fail(
                "bucket",
                "3 to 63 lower-case letters, digits, - and ., beginning and ending with a letter or digit".into(),
            );
        }
        let prefix_ok = self.prefix.len() <= 512
            && !self.prefix.starts_with('/')
            && !self.prefix.contains("//")
            && !self.prefix.split('/').any(|s| s == "." || s == "..")
            && self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if !prefix_ok {
            return fail(
                "prefix",
                "letters, digits, -, _, . and /, not starting with / and without // or .. (at most 512)".into(),
            );
        }
        let key_id_ok = !self.access_key_id.is_empty()
            && self.access_key_id.len() <= 128
            && self
                .access_key_id
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '/');
        if !key_id_ok {
            return fail(
                "access_key_id",
                "the s3 store needs its access key id (printable characters, no / or spaces)"
                    .into(),
            );
        }
        if self.secret_access_key.is_empty() {
            return fail(
                "secret_access_key_env",
                format!(
                    "the s3 store needs its secret access key: set the variable {} or documents.s3.secret_access_key_file",
                    if self.secret_access_key_env.is_empty() {
                        DEFAULT_S3_SECRET_ENV
                    } else {
                        &self.secret_access_key_env
                    }
                ),
            );
        }
        if !(1..=600).contains(&self.timeout_seconds) {
            return fail("timeout_seconds", "must be between 1 and 600".into());
        }
        Ok(())
    }
}

/// One `[[signing.providers]]` entry: a webhook provider (e.g. a BankID or SITHS signing service).
/// `SAMVERKAN_SIGNING_PROVIDER_<NAME>_SECRETS` (the name upper-cased, `-` as `_`; comma-separated)
/// replaces a configured provider's secrets, so they need not be in a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningProviderSettings {
    /// The name in the events route and the signatures' `method`: lower-case letters, digits, `-`.
    pub name: String,
    /// The Standard Webhooks signing secrets, `whsec_<base64>`; several while a secret is rotated (an
    /// event signed with any of them is accepted).
    pub secrets: Vec<String>,
}

impl SigningProviderSettings {
    /// The environment variable that replaces this provider's secrets.
    pub fn secrets_env(&self) -> String {
        format!(
            "SAMVERKAN_SIGNING_PROVIDER_{}_SECRETS",
            self.name.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// `[webhooks]`: outbound events (issue 16, item 8), sent by the webhook worker as Standard Webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Whether this instance runs the webhook worker (deliveries are written either way).
    pub enabled: bool,
    /// Attempts before a delivery is parked as dead.
    pub max_attempts: u32,
    /// The pause after the first failure; it doubles with each attempt (at most six hours).
    pub retry_base_seconds: u64,
    /// How long a claimed delivery is an instance's own before another may take it again.
    pub lease_seconds: u64,
    /// How often the worker looks for deliveries that are due.
    pub poll_interval_ms: u64,
    /// The longest one attempt may take (connecting and answering).
    pub timeout_seconds: u64,
    /// How many deliveries one claim takes.
    pub batch_size: i64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            enabled: true,
            max_attempts: 8,
            retry_base_seconds: 30,
            lease_seconds: 120,
            poll_interval_ms: 1000,
            timeout_seconds: 10,
            batch_size: 20,
        }
    }
}

impl WebhookSettings {
    fn validate(&self) -> anyhow::Result<()> {
        let fail =
            |key: &str, why: &str| Err(anyhow::anyhow!("configuration: webhooks.{key}: {why}"));
        if !(1..=100).contains(&self.max_attempts) {
            return fail("max_attempts", "must be between 1 and 100");
        }
        if !(1..=86_400).contains(&self.retry_base_seconds) {
            return fail("retry_base_seconds", "must be between 1 and 86400");
        }
        if self.timeout_seconds == 0 || self.timeout_seconds >= self.lease_seconds {
            return fail(
                "timeout_seconds",
                "must be at least 1 and less than webhooks.lease_seconds",
            );
        }
        if !(10..=600_000).contains(&self.poll_interval_ms) {
            return fail("poll_interval_ms", "must be between 10 and 600000");
        }
        if !(1..=1000).contains(&self.batch_size) {
            return fail("batch_size", "must be between 1 and 1000");
        }
        Ok(())
    }
}

/// Mail (e-post): the SMTP server, the sender and how the outbox worker retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// lettre's URL form, e.g. `smtp://user:password@host:587?tls=required` (STARTTLS) or
    /// `smtps://host:465` (implicit TLS). Empty: mail stays in the outbox.
    #[serde(default)]
    pub smtp_url: String,
    pub from: String,
    /// A PEM file of CA certificates trusted for the SMTP server besides the system's (a private CA).
    #[serde(default)]
    pub ca_file: String,
    /// Attempts before a message is parked as dead.
    pub max_attempts: u32,
    /// The pause after the first failure; it doubles with each attempt (at most six hours).
    pub retry_base_seconds: u64,
    /// How long a claimed message is an instance's own before another may take it again.
    pub lease_seconds: u64,
    /// How often the worker looks for mail to send.
    pub poll_interval_ms: u64,
    /// How often the worker looks for deadlines.
    pub deadline_interval_seconds: u64,
    /// How many mails one claim takes.
    pub batch_size: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub pool_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Seeded demo accounts without passwords, on a loopback address only.
    Local,
    /// Sign-in through one or more OpenID Connect providers (`[[auth.oidc.providers]]`).
    Oidc,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub token_ttl_hours: i64,
    /// Token requests one client (IP address) may make per minute; more get 429 with Retry-After.
    pub token_requests_per_minute: u32,
    /// E-mail addresses (verified by the provider) that become administrators at their first sign-in.
    #[serde(default)]
    pub bootstrap_admins: Vec<String>,
    /// The organisation (organisation number) a bootstrap administrator's role belongs to. Empty:
    /// the oldest organisation in the database (the first seeded CPUA authority).
    #[serde(default)]
    pub bootstrap_organisation: String,
    #[serde(default)]
    pub oidc: OidcSettings,
    #[serde(default)]
    pub session: SessionSettings,
}

/// `[auth.oidc]`: the identity providers people sign in through.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    #[serde(default)]
    pub providers: Vec<OidcProviderSettings>,
}

/// One `[[auth.oidc.providers]]` entry. The client secret is never here: only the name of the
/// environment variable that holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSettings {
    /// The name in `GET /auth/login?provider=<name>`.
    pub name: String,
    /// The issuer URL; `<issuer>/.well-known/openid-configuration` is read at start.
    pub issuer: String,
    pub client_id: String,
    /// The environment variable holding the client secret. Empty: a public client (PKCE only).
    #[serde(default)]
    pub client_secret_env: String,
    /// This service's callback, `<public_url>/auth/callback`, as registered with the provider.
    pub redirect_url: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Claims this provider is trusted to assert organisations and roles with.
    #[serde(default)]
    pub claims: ClaimMappings,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}

/// `[auth.oidc.providers.claims]`: a provider trusted to assert memberships. A person gets, at each
/// sign-in, every role of `roles` in every organisation of `organisations` that is also in
/// `trusted_organisations`; a role granted this way and no longer asserted is revoked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMappings {
    /// The claim holding organisation numbers (a string or a list of strings), e.g. "organisations".
    #[serde(default)]
    pub organisations: String,
    /// The claim holding role codes (e.g. "cpua_legal"); `administrator` is never taken from claims.
    #[serde(default)]
    pub roles: String,
    /// Organisation numbers this provider may assert memberships for; others in the claim are ignored.
    #[serde(default)]
    pub trusted_organisations: Vec<String>,
}

/// `[auth.session]`: browser sessions (cookies).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Minutes without a request after which a cookie session ends.
    pub idle_minutes: i64,
    /// Hours after sign-in after which a cookie session ends, whatever its use.
    pub absolute_hours: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: 30,
            absolute_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub default_page_size: i64,
    pub max_page_size: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// The audit trail's signed checkpoints (`[audit]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// The Ed25519 signing key (PKCS#8 PEM). Empty: `audit-signing-key.pem` in `data_dir`,
    /// generated there on first start.
    #[serde(default)]
    pub signing_key_file: String,
    /// Where a generated signing key is kept. Empty: beside the SQLite database file; with
    /// PostgreSQL there is no default folder (checkpoints are off until this or the key is set).
    #[serde(default)]
    pub data_dir: String,
    /// Minutes between the server's own checkpoints of every stream's head; 0: off.
    pub checkpoint_interval_minutes: u64,
}

/// The name of a generated signing key in the data folder.
pub const SIGNING_KEY_FILE_NAME: &str = "audit-signing-key.pem";

impl Settings {
    /// Where the audit signing key is (or is generated): `audit.signing_key_file`, else
    /// `audit.data_dir`/audit-signing-key.pem, else beside the SQLite file. `None` on PostgreSQL
    /// with neither set.
    /// Where the seal key of executed agreements is kept: `signing.seal_key_file`, else
    /// `seal-key.pem` in the folder the audit key uses; `None` with PostgreSQL and no folder.
    pub fn seal_key_path(&self) -> Option<std::path::PathBuf> {
        if !self.signing.seal_key_file.is_empty() {
            return Some(self.signing.seal_key_file.clone().into());
        }
        self.signing_key_path()
            .map(|p| p.with_file_name(SEAL_KEY_FILE_NAME))
    }

    pub fn signing_key_path(&self) -> Option<std::path::PathBuf> {
        if !self.audit.signing_key_file.is_empty() {
            return Some(self.audit.signing_key_file.clone().into());
        }
        if !self.audit.data_dir.is_empty() {
            return Some(Path::new(&self.audit.data_dir).join(SIGNING_KEY_FILE_NAME));
        }
        match crate::db::conn::DatabaseUrl::parse(&self.database_url).ok()? {
            crate::db::conn::DatabaseUrl::Sqlite(p) => Some(
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .join(SIGNING_KEY_FILE_NAME),
            ),
            crate::db::conn::DatabaseUrl::Postgres(_) => None,
        }
    }
}

/// Whether `s` is a bare origin: scheme://host[:port] with no path, query or trailing slash.
fn is_origin(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host().is_some()
            && u.path() == "/"
            && u.query().is_none()
            && !s.ends_with('/')
    })
}

impl Settings {
    /// The auth section: in oidc mode a public URL, at least one provider, each complete.
    fn validate_auth(&self) -> anyhow::Result<()> {
        let fail = |key: String, why: &str| Err(anyhow::anyhow!("configuration: {key}: {why}"));
        let a = &self.auth;
        if !(1..=24 * 60).contains(&a.session.idle_minutes) {
            return fail(
                "auth.session.idle_minutes".into(),
                "must be between 1 and 1440",
            );
        }
        if !(1..=24 * 30).contains(&a.session.absolute_hours) {
            return fail(
                "auth.session.absolute_hours".into(),
                "must be between 1 and 720",
            );
        }
        for e in &a.bootstrap_admins {
            if !e.contains('@') || e.trim() != e {
                return fail(
                    "auth.bootstrap_admins".into(),
                    "each entry must be an e-mail address",
                );
            }
        }
        if !a.bootstrap_organisation.is_empty()
            && crate::domain::organisation::OrgNumber::parse(&a.bootstrap_organisation).is_err()
        {
            return fail(
                "auth.bootstrap_organisation".into(),
                "must be an organisation number, e.g. 232100-0016",
            );
        }
        if a.mode == AuthMode::Local {
            return Ok(());
        }
        if a.oidc.providers.is_empty() {
            return fail(
                "auth.oidc.providers".into(),
                "oidc mode needs at least one [[auth.oidc.providers]] entry",
            );
        }
        let mut names = std::collections::HashSet::new();
        for (i, p) in a.oidc.providers.iter().enumerate() {
            let key = |k: &str| format!("auth.oidc.providers[{i}].{k}");
            let name_ok = !p.name.is_empty()
                && p.name.len() <= 40
                && p.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                return fail(key("name"), "must be 1-40 letters, digits, '-' or '_'");
            }
            if !names.insert(p.name.as_str()) {
                return fail(key("name"), "is used by another provider");
            }
            let issuer_ok = url::Url::parse(&p.issuer)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !issuer_ok {
                return fail(key("issuer"), "must be an http(s) URL");
            }
            if p.client_id.is_empty() {
                return fail(key("client_id"), "must not be empty");
            }
            if !p.client_secret_env.is_empty()
                && !p
                    .client_secret_env
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return fail(
                    key("client_secret_env"),
                    "must be the name of an environment variable",
                );
            }
            let expected = format!("{}/auth/callback", self.public_url());
            if p.redirect_url != expected {
                return fail(
                    key("redirect_url"),
                    &format!("must be {expected} (the service's address, server.public_url or the first provider's, followed by /auth/callback)"),
                );
            }
            if !p.scopes.iter().any(|s| s == "openid") {
                return fail(key("scopes"), "must include \"openid\"");
            }
            let c = &p.claims;
            if c.organisations.is_empty() != c.roles.is_empty() {
                return fail(
                    key("claims"),
                    "organisations and roles name their claims together, or neither",
                );
            }
            for n in &c.trusted_organisations {
                if crate::domain::organisation::OrgNumber::parse(n).is_err() {
                    return fail(
                        key("claims.trusted_organisations"),
                        "each entry must be an organisation number, e.g. 232100-0016",
                    );
                }
            }
        }
        Ok(())
    }

    /// The address people reach the service at, scheme://host[:port]: `server.public_url` when set;
    /// otherwise, in oidc mode, the origin of the first provider's `redirect_url` (the address the
    /// provider sends people back to), and else `http://` with the address the server binds.
    pub fn public_url(&self) -> String {
        if !self.server.public_url.is_empty() {
            return self.server.public_url.clone();
        }
        if self.auth.mode == AuthMode::Oidc {
            if let Some(u) = self
                .auth
                .oidc
                .providers
                .first()
                .and_then(|p| url::Url::parse(&p.redirect_url).ok())
            {
                return u.origin().ascii_serialization();
            }
        }
        let addr = if self.addr.is_empty() {
            DEFAULT_ADDR
        } else {
            self.addr.as_str()
        };
        format!("http://{addr}")
    }

    /// Whether the service is reached over HTTPS (cookies then get `__Host-` and `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/samverkan.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// `config/default.toml`, compiled into the binary: the base layer of every start.
pub const EMBEDDED_DEFAULT_TOML: &str = include_str!("../config/default.toml");

impl Settings {
    /// Loads the settings: the embedded defaults, then `dir/default.toml` if it exists, then
    /// `dir/<SAMVERKAN_ENV>.toml` (required when the variable is set), then the environment.
    pub fn load(dir: &Path) -> anyhow::Result<Settings> {
        let mut b = config::Config::builder()
            .add_source(config::File::from_str(
                EMBEDDED_DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .add_source(config::File::from(dir.join("default.toml")).required(false));
        if let Ok(env) = std::env::var("SAMVERKAN_ENV") {
            b = b.add_source(config::File::from(dir.join(format!("{env}.toml"))).required(true));
        }
        b = b.add_source(
            config::Environment::with_prefix("SAMVERKAN")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("server.cors_origins")
                .with_list_parse_key("server.trusted_proxies")
                .try_parsing(true),
        );
        let raw = b
            .build()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let mut s: Settings = raw
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        s.addr = std::env::var("SAMVERKAN_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_string());
        s.database_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_string());
        s.config_dir = dir.to_path_buf();
        if s.documents.store == DocumentStoreKind::S3 {
            s.documents.s3.load_secret()?;
        }
        for p in &mut s.signing.providers {
            if let Ok(v) = std::env::var(p.secrets_env()) {
                p.secrets = v
                    .split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect();
            }
        }
        s.templates_dir = std::env::var("SAMVERKAN_TEMPLATES_DIR")
            .unwrap_or_else(|_| "contract-templates".into())
            .into();
        s.validate()?;
        Ok(s)
    }

    /// The settings compiled into the binary, for tests and tools.
    pub fn defaults() -> Settings {
        Settings {
            server: ServerSettings {
                max_body_bytes: 262_144,
                workers: 0,
                blocking_threads: 0,
                cors_origins: vec![],
                public_url: String::new(),
                trusted_proxies: vec![],
            },
            database: DatabaseSettings { pool_size: 8 },
            auth: AuthSettings {
                mode: AuthMode::Local,
                token_ttl_hours: 12,
                token_requests_per_minute: 30,
                bootstrap_admins: vec![],
                bootstrap_organisation: String::new(),
                oidc: OidcSettings::default(),
                session: SessionSettings::default(),
            },
            api: ApiSettings {
                default_page_size: 50,
                max_page_size: 200,
            },
            log: LogSettings {
                format: LogFormat::Pretty,
                level: "info".into(),
            },
            audit: AuditSettings {
                signing_key_file: String::new(),
                data_dir: String::new(),
                checkpoint_interval_minutes: 60,
            },
            mail: MailSettings {
                smtp_url: String::new(),
                from: "samverkan@region.example".into(),
                ca_file: String::new(),
                max_attempts: 8,
                retry_base_seconds: 30,
                lease_seconds: 120,
                poll_interval_ms: 2000,
                deadline_interval_seconds: 300,
                batch_size: 20,
            },
            signing: SigningSettings::default(),
            documents: DocumentSettings::default(),
            webhooks: WebhookSettings::default(),
            addr: DEFAULT_ADDR.into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            config_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            templates_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("contract-templates"),
        }
    }

    /// Checks every value, naming the key at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        let fail = |key: &str, why: &str| Err(anyhow::anyhow!("configuration: {key}: {why}"));
        self.documents.validate()?;
        self.webhooks.validate()?;
        if !(1024..=16 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return fail("server.max_body_bytes", "must be between 1024 and 16777216");
        }
        if self.server.workers > 256 {
            return fail("server.workers", "must be at most 256");
        }
        if self.server.blocking_threads > 512 {
            return fail("server.blocking_threads", "must be at most 512");
        }
        if !(1..=128).contains(&self.database.pool_size) {
            return fail("database.pool_size", "must be between 1 and 128");
        }
        if !(1..=24 * 30).contains(&self.auth.token_ttl_hours) {
            return fail("auth.token_ttl_hours", "must be between 1 and 720");
        }
        if !(1..=100_000).contains(&self.auth.token_requests_per_minute) {
            return fail(
                "auth.token_requests_per_minute",
                "must be between 1 and 100000",
            );
        }
        self.validate_auth()?;
        for o in &self.server.cors_origins {
            if !is_origin(o) {
                return fail(
                    "server.cors_origins",
                    "each origin must be scheme://host[:port], e.g. https://portal.example.se, with no path or trailing slash",
                );
            }
        }
        for p in &self.server.trusted_proxies {
            if p.parse::<std::net::IpAddr>().is_err() {
                return fail(
                    "server.trusted_proxies",
                    "each entry must be an IP address, e.g. 10.0.0.5",
                );
            }
        }
        if !(1..=365).contains(&self.signing.expiry_days) {
            return fail("signing.expiry_days", "must be between 1 and 365");
        }
        let tsa = self.signing.tsa_url.trim();
        if !tsa.is_empty() && crate::render::tsa::parse_url(tsa).is_none() {
            return fail(
                "signing.tsa_url",
                "must be empty or an http(s)://host[:port]/path URL of an RFC 3161 timestamp authority",
            );
        }
        if !(1..=3600).contains(&self.signing.seal_lease_seconds) {
            return fail("signing.seal_lease_seconds", "must be between 1 and 3600");
        }
        if !(1..=24 * 60).contains(&self.signing.fresh_login_minutes) {
            return fail("signing.fresh_login_minutes", "must be between 1 and 1440");
        }
        let mut names = std::collections::BTreeSet::new();
        for p in &self.signing.providers {
            let ok_name = !p.name.is_empty()
                && p.name.len() <= 40
                && p.name != crate::app::signing::METHOD_BUILTIN
                && p.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok_name {
                return fail(
                    "signing.providers.name",
                    "must be 1-40 lower-case letters, digits or '-', and not \"builtin\"",
                );
            }
            if !names.insert(p.name.as_str()) {
                return fail("signing.providers.name", "names must be unique");
            }
            if p.secrets.is_empty() {
                return fail(
                    "signing.providers.secrets",
                    "each provider needs at least one secret (whsec_<base64>)",
                );
            }
            if let Err(why) = crate::app::signing_providers::check_secrets(&p.secrets) {
                return fail("signing.providers.secrets", &why);
            }
        }
        if self.api.max_page_size < 1 || self.api.max_page_size > 1000 {
            return fail("api.max_page_size", "must be between 1 and 1000");
        }
        if self.api.default_page_size < 1 || self.api.default_page_size > self.api.max_page_size {
            return fail(
                "api.default_page_size",
                "must be between 1 and api.max_page_size",
            );
        }
        if self.audit.checkpoint_interval_minutes > 7 * 24 * 60 {
            return fail(
                "audit.checkpoint_interval_minutes",
                "must be between 0 (off) and 10080 (a week)",
            );
        }
        if !self.server.public_url.is_empty() && !is_origin(&self.server.public_url) {
            return fail(
                "server.public_url",
                "must be an http(s) URL with a host and no trailing slash, e.g. https://samverkan.region.example",
            );
        }
        if let Err(why) = crate::app::mailer::check_settings(&self.mail) {
            return Err(anyhow::anyhow!("configuration: {why}"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return fail("log.level", "is not a valid tracing filter");
        }
        if self.addr.parse::<SocketAddr>().is_err() {
            return fail(
                "SAMVERKAN_ADDR",
                "must be an address with a port, e.g. 127.0.0.1:8080",
            );
        }
        crate::db::conn::DatabaseUrl::parse(&self.database_url).map_err(anyhow::Error::msg)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let s = Settings::load(&dir).unwrap();
        assert_eq!(s.api.max_page_size, 200);
    }

    #[test]
    fn the_embedded_defaults_load_from_a_folder_without_configuration() {
        let empty = std::env::temp_dir().join(format!("samverkan-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let s = Settings::load(&empty).unwrap();
        let d = Settings::defaults();
        assert_eq!(s.server.max_body_bytes, d.server.max_body_bytes);
        assert_eq!(s.auth.token_ttl_hours, d.auth.token_ttl_hours);
        assert_eq!(
            s.auth.token_requests_per_minute,
            d.auth.token_requests_per_minute
        );
        assert_eq!(s.server.cors_origins, d.server.cors_origins);
        assert_eq!(s.api.default_page_size, d.api.default_page_size);
        std::fs::remove_dir_all(&empty).ok();
    }

    #[test]
    fn a_folder_default_toml_overrides_the_embedded_one() {
        let dir = std::env::temp_dir().join(format!("samverkan-over-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default.toml"), "[api]\nmax_page_size = 300\n").unwrap();
        let s = Settings::load(&dir).unwrap();
        assert_eq!(s.api.max_page_size, 300);
        assert_eq!(
            s.api.default_page_size, 50,
            "the rest comes from the embedded file"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn signing_providers_need_a_name_and_whsec_secrets() {
        let provider = |name: &str, secrets: &[&str]| SigningProviderSettings {
            name: name.into(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
        };
        let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let mut s = Settings::defaults();
        s.signing.providers = vec![provider("bankid-sign", &[good, good])];
        assert!(s.validate().is_ok());
        assert_eq!(
            s.signing.providers[0].secrets_env(),
            "SAMVERKAN_SIGNING_PROVIDER_BANKID_SIGN_SECRETS"
        );
        for (bad, key) in [
            (vec![provider("builtin", &[good])], "signing.providers.name"),
            (vec![provider("Bank ID", &[good])], "signing.providers.name"),
            (
                vec![provider("a", &[good]), provider("a", &[good])],
                "signing.providers.name",
            ),
            (vec![provider("a", &[])], "signing.providers.secrets"),
            (
                vec![provider("a", &["MfKQ9r8GKYqrTwjU"])],
                "signing.providers.secrets",
            ),
            (
                vec![provider("a", &["whsec_%%%"])],
                "signing.providers.secrets",
            ),
        ] {
            s.signing.providers = bad;
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
    }

    #[test]
    fn cors_origins_must_be_bare_origins() {
        let mut s = Settings::defaults();
        s.server.cors_origins = vec!["https://portal.example.se".into()];
        assert!(s.validate().is_ok());
        for bad in [
            "*",
            "https://portal.example.se/",
            "portal.example.se",
            "https://x.se/app",
        ] {
            s.server.cors_origins = vec![bad.into()];
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains("server.cors_origins"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_signing_key_lives_beside_the_sqlite_file_unless_configured() {
        let mut s = Settings::defaults();
        s.database_url = "sqlite:///srv/samverkan/data.db".into();
        assert_eq!(
            s.signing_key_path(),
            Some("/srv/samverkan/audit-signing-key.pem".into())
        );
        s.database_url = "postgres://db/samverkan".into();
        assert_eq!(
            s.signing_key_path(),
            None,
            "no default folder for PostgreSQL"
        );
        s.audit.data_dir = "/var/lib/samverkan".into();
        assert_eq!(
            s.signing_key_path(),
            Some("/var/lib/samverkan/audit-signing-key.pem".into())
        );
        s.audit.signing_key_file = "/etc/samverkan/key.pem".into();
        assert_eq!(s.signing_key_path(), Some("/etc/samverkan/key.pem".into()));
        s.audit.checkpoint_interval_minutes = 20_000;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("audit.checkpoint_interval_minutes"));
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut s = Settings::defaults();
        s.database.pool_size = 0;
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("database.pool_size"), "{e}");
        // The blocking threads of a worker: 512 is the most, 0 (the default) the pool's share.
        let mut s = Settings::defaults();
        s.server.blocking_threads = 512;
        assert!(s.validate().is_ok());
        s.server.blocking_threads = 513;
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("server.blocking_threads"), "{e}");
        let mut s = Settings::defaults();
        s.addr = "localhost".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("SAMVERKAN_ADDR"));
    }

    fn oidc_settings() -> Settings {
        let mut s = Settings::defaults();
        s.auth.mode = AuthMode::Oidc;
        s.server.public_url = "https://samverkan.region.example".into();
        s.auth.oidc.providers = vec![OidcProviderSettings {
            name: "region".into(),
            issuer: "https://idp.region.example".into(),
            client_id: "samverkan".into(),
            client_secret_env: "SAMVERKAN_OIDC_REGION_SECRET".into(),
            redirect_url: "https://samverkan.region.example/auth/callback".into(),
            scopes: default_scopes(),
            claims: ClaimMappings::default(),
        }];
        s
    }

    #[test]
    fn the_issue_s_oidc_shape_loads_and_its_errors_name_the_key() {
        let dir = std::env::temp_dir().join(format!("samverkan-oidc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("default.toml"),
            r#"[auth]
mode = "oidc"
bootstrap_admins = ["it-admin@region.example"]
[[auth.oidc.providers]]
name = "region"
issuer = "https://idp.region.example"
client_id = "samverkan"
client_secret_env = "SAMVERKAN_OIDC_REGION_SECRET"
redirect_url = "https://samverkan.region.example/auth/callback"
scopes = ["openid", "profile", "email"]
"#,
        )
        .unwrap();
        let s = Settings::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(s.auth.mode, AuthMode::Oidc);
        assert_eq!(s.auth.oidc.providers[0].name, "region");
        assert_eq!(s.auth.session.idle_minutes, 30);
        assert!(s.is_https());

        type Case = (fn(&mut Settings), &'static str);
        let cases: Vec<Case> = vec![
            (
                |s| s.server.public_url = "samverkan.region.example".into(),
                "server.public_url",
            ),
            (|s| s.auth.oidc.providers.clear(), "auth.oidc.providers"),
            (
                |s| s.auth.oidc.providers[0].redirect_url = "https://evil.example/cb".into(),
                "auth.oidc.providers[0].redirect_url",
            ),
            (
                |s| s.auth.oidc.providers[0].scopes = vec!["email".into()],
                "auth.oidc.providers[0].scopes",
            ),
            (
                |s| s.auth.oidc.providers[0].issuer = "idp".into(),
                "auth.oidc.providers[0].issuer",
            ),
            (
                |s| s.auth.oidc.providers[0].claims.organisations = "orgs".into(),
                "auth.oidc.providers[0].claims",
            ),
            (
                |s| s.auth.session.idle_minutes = 0,
                "auth.session.idle_minutes",
            ),
            (
                |s| s.auth.bootstrap_admins = vec!["nobody".into()],
                "auth.bootstrap_admins",
            ),
        ];
        for (break_it, key) in cases {
            let mut s = oidc_settings();
            assert!(s.validate().is_ok());
            break_it(&mut s);
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
