//! Settings, typed and layered: defaults → optional `posthaste.toml` → environment.
//!
//! Every setting is declared once in [`RawSettings`] with its doc comment and default, then
//! validated into [`Config`]; invalid configuration stops the program at start with one line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::db::DatabaseUrl;

/// The settings as written by the operator. Environment names are `POSTHASTE_` + the field
/// name in capitals, except `DATABASE_URL` and `PORT`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RawSettings {
    /// `DATABASE_URL`: `mysql://user:pass@host:3306/db`, `sqlite://PATH` or a file path.
    /// Default: `<data_dir>/posthaste.db`.
    pub database_url: Option<String>,
    /// `POSTHASTE_DATA_DIR`: where the SQLite file, the cookie key and mail files live.
    pub data_dir: PathBuf,
    /// `POSTHASTE_ADDR`: the address to listen on. Default `127.0.0.1:8080`.
    pub addr: Option<String>,
    /// `PORT`: the port alone (for hosts that set it); listens on 0.0.0.0:PORT unless ADDR is set.
    pub port: Option<u16>,
    /// `POSTHASTE_PUBLIC_URL`: the URL people use, e.g. `https://team.example.com`. Used for
    /// links in mail, the same-origin check and the cookie's `Secure` flag.
    pub public_url: Option<String>,
    /// `POSTHASTE_SITE_TITLE`: the site's name in the header and `<title>`.
    pub site_title: String,
    /// `POSTHASTE_PROMPT`: the posting box's prompt; `{name}` is replaced by the member's name.
    pub prompt: String,
    /// `POSTHASTE_COOKIE_KEY`: base64 of at least 64 random bytes signing session cookies.
    /// Default: generated once into `<data_dir>/cookie.key`. Share it between app nodes.
    pub cookie_key: Option<String>,
    /// `POSTHASTE_SESSION_DAYS`: how long a sign-in lasts without activity.
    pub session_days: u32,
    /// `POSTHASTE_COOKIE_SECURE`: send cookies over HTTPS only. Default: true when the public
    /// URL is https.
    pub cookie_secure: Option<bool>,
    /// `POSTHASTE_THEME_DIR`: a folder whose `templates/*.hbs` and `assets/*` override the
    /// built-in ones of the same name.
    pub theme_dir: Option<PathBuf>,
    /// `POSTHASTE_GRAVATAR`: show Gravatar images over the initials avatars.
    pub gravatar: bool,
    /// `POSTHASTE_TRUST_PROXY`: take the client IP from `X-Forwarded-For` (only behind a proxy
    /// you run; used for sign-in throttling and logs).
    pub trust_proxy: bool,
    /// `POSTHASTE_SMTP_URL`: where mail goes, in lettre's URL form (`smtp://host:587?tls=required`,
    /// `smtps://user:pass@host`, `smtp://127.0.0.1:2525`). Unset: `.eml` files in
    /// `<data_dir>/mail/`.
    pub smtp_url: Option<String>,
    /// `POSTHASTE_MAIL_FROM`: the sender address, e.g. `Team <posthaste@example.com>`.
    pub mail_from: String,
    /// `POSTHASTE_SMTP_TIMEOUT_SECS`: give up on an SMTP exchange after this long (retried later).
    pub smtp_timeout_secs: u64,
    /// `POSTHASTE_WORKER`: run the job worker (mail) inside the server process.
    pub worker: bool,
    /// `POSTHASTE_WORKER_POLL_MS`: how often an idle worker looks for jobs.
    pub worker_poll_ms: u64,
    /// `POSTHASTE_RETRY_BASE_SECS`: first retry delay of a failed job (doubles each try, max 1 h).
    pub retry_base_secs: u64,
    /// `POSTHASTE_MAX_REPLY_DEPTH`: how deep replies nest visually; deeper replies are shown at
    /// the last level with "in reply to NAME".
    pub max_reply_depth: u8,
    /// `POSTHASTE_DB_POOL_SIZE`: database connections per app process.
    pub db_pool_size: u32,
    /// `POSTHASTE_WORKERS`: HTTP worker threads. Default: one per CPU core.
    pub workers: Option<usize>,
    /// `POSTHASTE_LOG`: log filter, e.g. `info`, `posthaste=debug`.
    pub log: String,
    /// `POSTHASTE_PLUGINS`: the plugins switched on at start, comma-separated (or a TOML list),
    /// e.g. `tags,webhooks,mastodon-crosspost`; empty for none. An admin's choice on
    /// `/admin/plugins` is stored in the database and wins over this.
    #[serde(deserialize_with = "name_list")]
    pub plugins: Vec<String>,
    /// `POSTHASTE_TICK_MS`: how often each node refreshes plugin switches and what plugins
    /// cache (the tags sidebar).
    pub tick_ms: u64,
    /// Plugin settings: `[plugin_name]` tables in the file, `POSTHASTE_PLUGIN_NAME_FIELD` in the
    /// environment (see docs/plugins.md). Every key not named above lands here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A list setting given as `"a, b"` (environment) or `["a", "b"]` (TOML): items trimmed,
/// blanks dropped. For `#[serde(deserialize_with = "...")]`, in plugins' settings too.
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        One(String),
        Many(Vec<String>),
    }
    let items = match Items::deserialize(d)? {
        Items::One(s) => s.split(',').map(str::to_string).collect(),
        Items::Many(v) => v,
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Plugin names: [`one_or_many`], lowercased.
fn name_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(one_or_many(d)?
        .into_iter()
        .map(|n| n.to_lowercase())
        .collect())
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("./data"),
            addr: None,
            port: None,
            public_url: None,
            site_title: "Posthaste".into(),
            prompt: "What are you working on, {name}?".into(),
            cookie_key: None,
            session_days: 30,
            cookie_secure: None,
            theme_dir: None,
            gravatar: true,
            trust_proxy: false,
            max_reply_depth: 5,
            smtp_url: None,
            mail_from: "Posthaste <posthaste@localhost>".into(),
            smtp_timeout_secs: 10,
            worker: true,
            worker_poll_ms: 1000,
            retry_base_secs: 10,
            db_pool_size: 10,
            workers: None,
            log: "info".into(),
            plugins: vec!["tags".into()],
            tick_ms: 5000,
            extra: BTreeMap::new(),
        }
    }
}

/// Validated configuration the application runs with.
#[derive(Clone)]
pub struct Config {
    /// The database.
    pub database: DatabaseUrl,
    /// The data folder (exists after [`Config::load`]).
    pub data_dir: PathBuf,
    /// Listen address.
    pub addr: SocketAddr,
    /// Public base URL without a trailing slash, if configured.
    pub public_url: Option<String>,
    /// Site title.
    pub site_title: String,
    /// Posting box prompt with `{name}`.
    pub prompt: String,
    /// Session cookie signing key (64 bytes).
    pub cookie_key: Vec<u8>,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Whether cookies carry `Secure`.
    pub cookie_secure: bool,
    /// Theme override folder.
    pub theme_dir: Option<PathBuf>,
    /// Whether to show Gravatar images.
    pub gravatar: bool,
    /// Whether to trust `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Deepest visual reply level.
    pub max_reply_depth: u8,
    /// SMTP URL, if mail goes to a server.
    pub smtp_url: Option<String>,
    /// Sender.
    pub mail_from: String,
    /// SMTP timeout.
    pub smtp_timeout_secs: u64,
    /// Run the worker in the server.
    pub worker: bool,
    /// Idle poll interval.
    pub worker_poll_ms: u64,
    /// First retry delay.
    pub retry_base_secs: u64,
    /// Pool size.
    pub db_pool_size: u32,
    /// HTTP workers.
    pub workers: usize,
    /// Log filter.
    pub log: String,
    /// Plugins switched on at start.
    pub plugins: Vec<String>,
    /// Plugin tick interval.
    pub tick_ms: u64,
    /// Plugin settings (keys not known to the core).
    pub plugin_settings: BTreeMap<String, serde_json::Value>,
}

impl std::fmt::Debug for Config {
    // Hand-written so the cookie key is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database.backend())
            .field("data_dir", &self.data_dir)
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, reported in one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

fn bad(what: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{what} {why}"))
}

impl RawSettings {
    /// Reads defaults, then `file` (if it exists; `posthaste.toml` by default), then the
    /// environment.
    pub fn figment(file: Option<&Path>) -> Figment {
        let explicit = file.is_some();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("POSTHASTE_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("posthaste.toml"));
        let mut fig = Figment::from(Serialized::defaults(RawSettings::default()));
        if explicit || file.exists() {
            fig = fig.merge(Toml::file_exact(file));
        }
        fig.merge(Env::prefixed("POSTHASTE_").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url", "port"]))
    }

    /// Loads and validates from the figment.
    pub fn load(fig: &Figment) -> Result<Config, ConfigError> {
        let raw: RawSettings = fig.extract().map_err(|e| {
            let e = e
                .into_iter()
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            ConfigError(e)
        })?;
        raw.validate()
    }

    /// Turns operator input into a [`Config`], creating the data folder and cookie key.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let data_dir = self.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            bad(
                "POSTHASTE_DATA_DIR",
                format!("{}: cannot create: {e}", data_dir.display()),
            )
        })?;
        let database = match &self.database_url {
            Some(u) => DatabaseUrl::parse(u).map_err(|e| bad("DATABASE_URL", e))?,
            None => DatabaseUrl::Sqlite(data_dir.join("posthaste.db")),
        };
        let addr: SocketAddr = match (&self.addr, self.port) {
            (Some(a), _) => a.parse().map_err(|_| {
                bad(
                    "POSTHASTE_ADDR",
                    format!("`{a}` is not an address like 127.0.0.1:8080"),
                )
            })?,
            (None, Some(p)) => SocketAddr::from(([0, 0, 0, 0], p)),
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match &self.public_url {
            None => None,
            Some(u) if u.trim().is_empty() => None,
            Some(u) => {
                let u = u.trim().trim_end_matches('/');
                let rest = u
                    .strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"))
                    .ok_or_else(|| {
                        bad(
                            "POSTHASTE_PUBLIC_URL",
                            format!("`{u}` must start with http:// or https://"),
                        )
                    })?;
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return Err(bad("POSTHASTE_PUBLIC_URL", format!("`{u}` has no host")));
                }
                Some(u.to_string())
            }
        };
        if self.site_title.trim().is_empty() || self.site_title.chars().count() > 100 {
            return Err(bad("POSTHASTE_SITE_TITLE", "must be 1 to 100 characters"));
        }
        if self.session_days == 0 || self.session_days > 3650 {
            return Err(bad("POSTHASTE_SESSION_DAYS", "must be between 1 and 3650"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "POSTHASTE_MAIL_FROM",
                format!(
                    "`{}` is not an address like Team <posthaste@example.com>",
                    self.mail_from
                ),
            ));
        }
        let smtp_url = self.smtp_url.clone().filter(|u| !u.trim().is_empty());
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(bad(
                    "POSTHASTE_SMTP_URL",
                    "must start with smtp:// or smtps://",
                ));
            }
        }
        if self.smtp_timeout_secs == 0 || self.smtp_timeout_secs > 300 {
            return Err(bad(
                "POSTHASTE_SMTP_TIMEOUT_SECS",
                "must be between 1 and 300",
            ));
        }
        if self.worker_poll_ms < 10 || self.retry_base_secs == 0 {
            return Err(bad(
                "POSTHASTE_WORKER_POLL_MS / POSTHASTE_RETRY_BASE_SECS",
                "are too small",
            ));
        }
        if !(1..=10).contains(&self.max_reply_depth) {
            return Err(bad("POSTHASTE_MAX_REPLY_DEPTH", "must be between 1 and 10"));
        }
        if self.db_pool_size == 0 || self.db_pool_size > 200 {
            return Err(bad("POSTHASTE_DB_POOL_SIZE", "must be between 1 and 200"));
        }
        let cookie_key = match &self.cookie_key {
            Some(k) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(k.trim())
                    .map_err(|_| bad("POSTHASTE_COOKIE_KEY", "is not valid base64"))?;
                if bytes.len() < 64 {
                    return Err(bad(
                        "POSTHASTE_COOKIE_KEY",
                        "must decode to at least 64 bytes (try `openssl rand -base64 64`)",
                    ));
                }
                bytes
            }
            None => load_or_create_key(&data_dir.join("cookie.key"))?,
        };
        let https = public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        if let Some(dir) = &self.theme_dir {
            if !dir.is_dir() {
                return Err(bad(
                    "POSTHASTE_THEME_DIR",
                    format!("{} is not a folder", dir.display()),
                ));
            }
        }
        Ok(Config {
            database,
            data_dir,
            addr,
            public_url,
            site_title: self.site_title.trim().to_string(),
            prompt: self.prompt,
            cookie_key,
            session_ttl: Duration::from_secs(u64::from(self.session_days) * 86_400),
            cookie_secure: self.cookie_secure.unwrap_or(https),
            theme_dir: self.theme_dir,
            gravatar: self.gravatar,
            trust_proxy: self.trust_proxy,
            max_reply_depth: self.max_reply_depth,
            smtp_url,
            mail_from: self.mail_from,
            smtp_timeout_secs: self.smtp_timeout_secs,
            worker: self.worker,
            worker_poll_ms: self.worker_poll_ms,
            retry_base_secs: self.retry_base_secs,
            db_pool_size: self.db_pool_size,
            workers: self
                .workers
                .filter(|w| *w > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            log: self.log,
            plugins: self.plugins,
            tick_ms: self.tick_ms.max(50),
            plugin_settings: self.extra,
        })
    }
}

/// Reads the cookie key from `path`, or writes a new random one there (mode 0600).
fn load_or_create_key(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let what = "cookie key file";
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() >= 64 => Ok(bytes),
        Ok(_) => Err(bad(
            what,
            format!("{} is shorter than 64 bytes: delete it", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 64] = rand::random();
            write_private(path, &key)
                .map_err(|e| bad(what, format!("{}: cannot write: {e}", path.display())))?;
            Ok(key.to_vec())
        }
        Err(e) => Err(bad(what, format!("{}: cannot read: {e}", path.display()))),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(dir: &Path) -> RawSettings {
        RawSettings {
            data_dir: dir.to_path_buf(),
            ..RawSettings::default()
        }
    }

    #[test]
    fn defaults_are_valid_and_key_is_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let a = base(dir.path()).validate().unwrap();
        assert_eq!(a.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(
            a.database,
            DatabaseUrl::Sqlite(dir.path().join("posthaste.db"))
        );
        assert!(!a.cookie_secure);
        let b = base(dir.path()).validate().unwrap();
        assert_eq!(a.cookie_key, b.cookie_key, "key generated once");
    }

    #[test]
    fn port_alone_and_https_public_url() {
        let dir = tempfile::tempdir().unwrap();
        let c = RawSettings {
            port: Some(9000),
            public_url: Some("https://team.example.com/".into()),
            ..base(dir.path())
        }
        .validate()
        .unwrap();
        assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(c.public_url.as_deref(), Some("https://team.example.com"));
        assert!(c.cookie_secure);
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let e = RawSettings {
            addr: Some("nope".into()),
            ..base(dir.path())
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("POSTHASTE_ADDR"), "{e}");
        let e = RawSettings {
            public_url: Some("team.example.com".into()),
            ..base(dir.path())
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("POSTHASTE_PUBLIC_URL"), "{e}");
        let e = RawSettings {
            cookie_key: Some("c2hvcnQ=".into()),
            ..base(dir.path())
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("POSTHASTE_COOKIE_KEY"), "{e}");
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail API fixes the error type"
    )]
    fn layers_file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "posthaste.toml",
                "site_title = \"From file\"\nsession_days = 7",
            )?;
            jail.set_env("POSTHASTE_SESSION_DAYS", "3");
            jail.set_env("DATABASE_URL", "sqlite://x.db");
            let raw: RawSettings = RawSettings::figment(None).extract()?;
            assert_eq!(raw.site_title, "From file");
            assert_eq!(raw.session_days, 3);
            assert_eq!(raw.database_url.as_deref(), Some("sqlite://x.db"));
            jail.set_env("POSTHASTE_SESSION_DAYS", "many");
            let err = RawSettings::figment(None)
                .extract::<RawSettings>()
                .unwrap_err();
            assert!(
                err.to_string().to_lowercase().contains("session_days"),
                "{err}"
            );
            Ok(())
        });
    }
}
