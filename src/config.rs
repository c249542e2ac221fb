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
    /// Origins (scheme://host[:port]) a browser may call the API from; empty: CORS closed.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// The address people reach the service at, for links in mail (no trailing slash).
    #[serde(default = "default_public_url")]
    pub public_url: String,
}

fn default_public_url() -> String {
    format!("http://{DEFAULT_ADDR}")
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
    Local,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub token_ttl_hours: i64,
    /// Token requests one client (IP address) may make per minute; more get 429 with Retry-After.
    pub token_requests_per_minute: u32,
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
                cors_origins: vec![],
                public_url: default_public_url(),
            },
            database: DatabaseSettings { pool_size: 8 },
            auth: AuthSettings {
                mode: AuthMode::Local,
                token_ttl_hours: 12,
                token_requests_per_minute: 30,
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
        if !(1024..=16 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return fail("server.max_body_bytes", "must be between 1024 and 16777216");
        }
        if self.server.workers > 256 {
            return fail("server.workers", "must be at most 256");
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
        for o in &self.server.cors_origins {
            let ok = url::Url::parse(o).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && !o.ends_with('/')
            });
            if !ok {
                return fail(
                    "server.cors_origins",
                    "each origin must be scheme://host[:port], e.g. https://portal.example.se, with no path or trailing slash",
                );
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
        let public = url::Url::parse(&self.server.public_url);
        if !public.is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            || self.server.public_url.ends_with('/')
        {
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
        let mut s = Settings::defaults();
        s.addr = "localhost".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("SAMVERKAN_ADDR"));
    }
}
