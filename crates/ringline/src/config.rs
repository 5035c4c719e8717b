//! Configuration, layered: built-in defaults < `ringline.toml` (in the working folder, or the
//! file named by `--config` / `RINGLINE_CONFIG`) < `RINGLINE_*` environment variables (and
//! `DATABASE_URL`) < command-line flags. There is no global config: the value is built once in
//! `main` and passed down. Secrets are never printed.

use std::path::{Path, PathBuf};

use ringline_core::economy::{Cny, ThresholdError, Thresholds};
use serde::Deserialize;

/// Default SQLite file, in the working folder.
pub const DEFAULT_DATABASE: &str = "ringline.db";
/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default data folder with PostgreSQL, in the working folder (with SQLite it is the database
/// file's folder).
pub const DEFAULT_DATA_DIR: &str = "ringline-data";
/// Default time a client has to send a request's whole header, in seconds (and the longest a
/// kept-alive connection waits for its next request).
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 30;
/// Default longest pause while a client sends a request body, in seconds: a slow but steady
/// upload goes on, a stalled one is cut.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite path or `postgres://…` URL.
    pub database_url: String,
    /// Listen address for `serve`.
    pub bind: String,
    /// Password for the first `admin` account (instead of a generated one).
    pub admin_password: Option<String>,
    /// Mark the session cookie `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    /// Dispatched cadres of this age or younger are "young" (SPEC C7: configurable, default 40):
    /// the default of new batches and of roster views.
    pub young_max_age: u32,
    /// Income-class thresholds of village collectives (SPEC C5; default: empty-shell = 0,
    /// weak < 50,000, ordinary < 100,000, strong ≥ 100,000 yuan). File keys
    /// `income_weak_below` and `income_ordinary_below`, environment `RINGLINE_INCOME_WEAK_BELOW`
    /// and `RINGLINE_INCOME_ORDINARY_BELOW`, all in yuan (`50000`, `5万`).
    pub income_thresholds: Thresholds,
    /// The folder for this installation's files (uploads waiting to be imported), created 0700
    /// when missing. `None`: the SQLite database file's folder, or [`DEFAULT_DATA_DIR`] in the
    /// working folder with PostgreSQL; see [`Config::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// Seconds a client has to send a request's header (file key `header_timeout_secs`,
    /// environment `RINGLINE_HEADER_TIMEOUT_SECS`; default [`DEFAULT_HEADER_TIMEOUT_SECS`]).
    pub header_timeout_secs: u64,
    /// Longest pause in seconds while a request body arrives (file key `body_timeout_secs`,
    /// environment `RINGLINE_BODY_TIMEOUT_SECS`; default [`DEFAULT_BODY_TIMEOUT_SECS`]).
    pub body_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE.into(),
            bind: DEFAULT_BIND.into(),
            admin_password: None,
            secure_cookies: false,
            trust_proxy: false,
            young_max_age: ringline_core::dispatch::DEFAULT_YOUNG_MAX_AGE,
            income_thresholds: Thresholds::default(),
            data_dir: None,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
        }
    }
}

/// The optional TOML file's shape (all keys optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`Config::database_url`].
    pub database_url: Option<String>,
    /// See [`Config::bind`].
    pub bind: Option<String>,
    /// See [`Config::secure_cookies`].
    pub secure_cookies: Option<bool>,
    /// See [`Config::trust_proxy`].
    pub trust_proxy: Option<bool>,
    /// See [`Config::young_max_age`].
    pub young_max_age: Option<u32>,
    /// Collective income below which a village is weak (薄弱村), in yuan; see
    /// [`Config::income_thresholds`].
    pub income_weak_below: Option<Yuan>,
    /// Collective income below which a village is ordinary (一般村) rather than strong (强村), in
    /// yuan; see [`Config::income_thresholds`].
    pub income_ordinary_below: Option<Yuan>,
    /// See [`Config::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// See [`Config::header_timeout_secs`].
    pub header_timeout_secs: Option<u64>,
    /// See [`Config::body_timeout_secs`].
    pub body_timeout_secs: Option<u64>,
}

/// An amount of yuan in the configuration file: a number (`50000`, `50000.5`) or text as people
/// write it (`"50,000"`, `"5万"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Yuan {
    /// A whole number of yuan.
    Integer(i64),
    /// A decimal number of yuan (at most 2 decimals).
    Float(f64),
    /// Text, read by [`Cny::from_yuan_str`].
    Text(String),
}

impl Yuan {
    /// The amount, or why it is not one.
    fn to_cny(&self) -> Result<Cny, String> {
        let text = match self {
            Yuan::Integer(n) => n.to_string(),
            Yuan::Float(f) if f.is_finite() => f.to_string(),
            Yuan::Float(f) => return Err(format!("{f} is not an amount of yuan")),
            Yuan::Text(t) => t.clone(),
        };
        Cny::from_yuan_str(&text).map_err(|e| e.to_string())
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {cause}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        cause: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("configuration file {path}: {message}")]
    Parse {
        /// Path.
        path: String,
        /// Parser message (names the line and key).
        message: String,
    },
    /// A key has a value the program cannot use.
    #[error("configuration: {key}: {message}")]
    Invalid {
        /// The key (file key or environment variable).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Sets `slot` from a yuan value of the configuration key `key`.
fn set_yuan(slot: &mut Cny, key: &str, value: &Yuan) -> Result<(), ConfigError> {
    *slot = value.to_cny().map_err(|message| ConfigError::Invalid {
        key: key.to_string(),
        message,
    })?;
    Ok(())
}

impl Config {
    /// Builds the configuration from the file (if any), the environment given as a lookup
    /// function (so tests need not touch the process environment) and flag overrides.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        database_flag: Option<String>,
        bind_flag: Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        // Where each income threshold was set, to name it in an error.
        let mut weak_set: Option<&str> = None;
        let mut ordinary_set: Option<&str> = None;
        let explicit = file
            .map(Path::to_path_buf)
            .or_else(|| env("RINGLINE_CONFIG").map(Into::into));
        let path = explicit.clone().unwrap_or_else(|| "ringline.toml".into());
        if explicit.is_some() || path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|cause| ConfigError::Io {
                path: path.display().to_string(),
                cause,
            })?;
            let f: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            if let Some(v) = f.database_url {
                c.database_url = v;
            }
            if let Some(v) = f.bind {
                c.bind = v;
            }
            if let Some(v) = f.secure_cookies {
                c.secure_cookies = v;
            }
            if let Some(v) = f.trust_proxy {
                c.trust_proxy = v;
            }
            if let Some(v) = f.young_max_age {
                c.young_max_age = v;
            }
            if let Some(v) = &f.income_weak_below {
                weak_set = Some("income_weak_below");
                set_yuan(&mut c.income_thresholds.weak_below, "income_weak_below", v)?;
            }
            if let Some(v) = &f.income_ordinary_below {
                ordinary_set = Some("income_ordinary_below");
                set_yuan(&mut c.income_thresholds.ordinary_below, "income_ordinary_below", v)?;
            }
            if let Some(v) = f.data_dir {
                c.data_dir = Some(v);
            }
            if let Some(v) = f.header_timeout_secs {
                c.header_timeout_secs = seconds("header_timeout_secs", &v.to_string())?;
            }
            if let Some(v) = f.body_timeout_secs {
                c.body_timeout_secs = seconds("body_timeout_secs", &v.to_string())?;
            }
        }
        if let Some(v) = env("DATABASE_URL").or_else(|| env("RINGLINE_DATABASE_URL")) {
            c.database_url = v;
        }
        if let Some(v) = env("RINGLINE_BIND") {
            c.bind = v;
        }
        if let Some(v) = env("RINGLINE_SECURE_COOKIES") {
            c.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("RINGLINE_TRUST_PROXY") {
            c.trust_proxy = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("RINGLINE_YOUNG_MAX_AGE").and_then(|v| v.trim().parse().ok()) {
            c.young_max_age = v;
        }
        if let Some(v) = env("RINGLINE_INCOME_WEAK_BELOW") {
            weak_set = Some("RINGLINE_INCOME_WEAK_BELOW");
            set_yuan(
                &mut c.income_thresholds.weak_below,
                "RINGLINE_INCOME_WEAK_BELOW",
                &Yuan::Text(v),
            )?;
        }
        if let Some(v) = env("RINGLINE_INCOME_ORDINARY_BELOW") {
            ordinary_set = Some("RINGLINE_INCOME_ORDINARY_BELOW");
            set_yuan(
                &mut c.income_thresholds.ordinary_below,
                "RINGLINE_INCOME_ORDINARY_BELOW",
                &Yuan::Text(v),
            )?;
        }
        if let Some(v) = env("RINGLINE_DATA_DIR").filter(|v| !v.is_empty()) {
            c.data_dir = Some(v.into());
        }
        if let Some(v) = env("RINGLINE_HEADER_TIMEOUT_SECS") {
            c.header_timeout_secs = seconds("RINGLINE_HEADER_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = env("RINGLINE_BODY_TIMEOUT_SECS") {
            c.body_timeout_secs = seconds("RINGLINE_BODY_TIMEOUT_SECS", &v)?;
        }
        if let Err(e) = c.income_thresholds.validate() {
            // Name the key the user set (the ordinary one when both were).
            let key = match e {
                ThresholdError::WeakNotPositive => weak_set.unwrap_or("income_weak_below"),
                ThresholdError::NotIncreasing { .. } => ordinary_set.or(weak_set).unwrap_or("income_ordinary_below"),
            };
            return Err(ConfigError::Invalid {
                key: key.to_string(),
                message: e.to_string(),
            });
        }
        c.admin_password = env("RINGLINE_ADMIN_PASSWORD").filter(|p| !p.is_empty());
        if let Some(v) = database_flag {
            c.database_url = v;
        }
        if let Some(v) = bind_flag {
            c.bind = v;
        }
        Ok(c)
    }

    /// The data folder in effect: [`Config::data_dir`] when set, else the folder of the SQLite
    /// database file (`.` for `ringline.db`), else [`DEFAULT_DATA_DIR`] (PostgreSQL).
    pub fn data_dir(&self) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        match crate::db::Backend::of_url(&self.database_url) {
            crate::db::Backend::Postgres => PathBuf::from(DEFAULT_DATA_DIR),
            crate::db::Backend::Sqlite => {
                let path = self
                    .database_url
                    .strip_prefix("sqlite://")
                    .unwrap_or(&self.database_url);
                match Path::new(path).parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            }
        }
    }

    /// The database URL with any password replaced by `***`, for messages.
    pub fn database_display(&self) -> String {
        redact_url(&self.database_url)
    }
}

/// A timeout of 1 to 3,600 seconds from the configuration key `key`.
fn seconds(key: &str, value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=3600).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            key: key.to_string(),
            message: format!("{value:?} is not a number of seconds from 1 to 3600"),
        }),
    }
}

/// Replaces the password in `scheme://user:password@host/…` with `***`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("r.toml");
        std::fs::write(&file, "database_url = \"file.db\"\nbind = \"0.0.0.0:1\"\n").expect("write");
        let env = |k: &str| match k {
            "RINGLINE_BIND" => Some("127.0.0.1:2".to_string()),
            _ => None,
        };
        let c = Config::load(Some(&file), env, None, None).expect("loads");
        assert_eq!(c.database_url, "file.db");
        assert_eq!(c.bind, "127.0.0.1:2");
        let c = Config::load(Some(&file), env, Some("flag.db".into()), Some("127.0.0.1:3".into())).expect("loads");
        assert_eq!(c.database_url, "flag.db");
        assert_eq!(c.bind, "127.0.0.1:3");
    }

    #[test]
    fn data_folder_and_timeouts() {
        let none = |_: &str| None;
        let c = Config::default();
        assert_eq!((c.header_timeout_secs, c.body_timeout_secs), (30, 60));
        // The data folder: beside the SQLite file, ./ringline-data with PostgreSQL, or as set.
        let mut c = Config::default();
        assert_eq!(c.data_dir(), PathBuf::from("."));
        c.database_url = "/srv/ringline/ringline.db".into();
        assert_eq!(c.data_dir(), PathBuf::from("/srv/ringline"));
        c.database_url = "sqlite://data/r.db".into();
        assert_eq!(c.data_dir(), PathBuf::from("data"));
        c.database_url = "postgres://u@h/ringline".into();
        assert_eq!(c.data_dir(), PathBuf::from("ringline-data"));
        c.data_dir = Some("/var/lib/ringline".into());
        assert_eq!(c.data_dir(), PathBuf::from("/var/lib/ringline"));
        // File and environment; the environment wins; bad values name their key.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("r.toml");
        std::fs::write(
            &file,
            "data_dir = \"/d\"\nheader_timeout_secs = 10\nbody_timeout_secs = 20\n",
        )
        .expect("write");
        let c = Config::load(Some(&file), none, None, None).expect("loads");
        assert_eq!(
            (c.data_dir, c.header_timeout_secs, c.body_timeout_secs),
            (Some("/d".into()), 10, 20)
        );
        let env = |k: &str| match k {
            "RINGLINE_DATA_DIR" => Some("/e".to_string()),
            "RINGLINE_HEADER_TIMEOUT_SECS" => Some("5".to_string()),
            _ => None,
        };
        let c = Config::load(Some(&file), env, None, None).expect("loads");
        assert_eq!(
            (c.data_dir, c.header_timeout_secs, c.body_timeout_secs),
            (Some("/e".into()), 5, 20)
        );
        for (text, key) in [
            ("header_timeout_secs = 0\n", "header_timeout_secs"),
            ("body_timeout_secs = 7200\n", "body_timeout_secs"),
        ] {
            std::fs::write(&file, text).expect("write");
            let err = Config::load(Some(&file), none, None, None).expect_err(text);
            assert!(matches!(&err, ConfigError::Invalid { key: k, .. } if k == key), "{err}");
        }
        std::fs::write(&file, "").expect("write");
        let env = |k: &str| (k == "RINGLINE_BODY_TIMEOUT_SECS").then(|| "soon".to_string());
        let err = Config::load(Some(&file), env, None, None).expect_err("not a number");
        assert!(err.to_string().contains("RINGLINE_BODY_TIMEOUT_SECS"), "{err}");
    }

    #[test]
    fn bad_file_names_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("r.toml");
        std::fs::write(&file, "databse_url = 1\n").expect("write");
        let err = Config::load(Some(&file), |_| None, None, None).expect_err("rejected");
        assert!(err.to_string().contains("databse_url"), "{err}");
    }

    #[test]
    fn income_thresholds_default_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("r.toml");
        std::fs::write(&file, "").expect("write");
        let c = Config::load(Some(&file), |_| None, None, None).expect("defaults");
        assert_eq!(c.income_thresholds, Thresholds::default());
        assert_eq!(c.income_thresholds.weak_below, Cny::from_yuan(50_000));
        assert_eq!(c.income_thresholds.ordinary_below, Cny::from_yuan(100_000));

        // Yuan as an integer, a decimal or text.
        std::fs::write(&file, "income_weak_below = 30000\nincome_ordinary_below = \"8万\"\n").expect("write");
        let c = Config::load(Some(&file), |_| None, None, None).expect("loads");
        assert_eq!(c.income_thresholds.weak_below, Cny::from_yuan(30_000));
        assert_eq!(c.income_thresholds.ordinary_below, Cny::from_yuan(80_000));
        std::fs::write(&file, "income_weak_below = 30000.5\n").expect("write");
        let c = Config::load(Some(&file), |_| None, None, None).expect("loads");
        assert_eq!(c.income_thresholds.weak_below.fen(), 3_000_050);
        // The environment wins over the file.
        let env = |k: &str| (k == "RINGLINE_INCOME_WEAK_BELOW").then(|| "40000".to_string());
        let c = Config::load(Some(&file), env, None, None).expect("loads");
        assert_eq!(c.income_thresholds.weak_below, Cny::from_yuan(40_000));

        // Errors name the key.
        for (text, key) in [
            ("income_weak_below = 0\n", "income_weak_below"),
            ("income_weak_below = -5\n", "income_weak_below"),
            ("income_weak_below = \"abc\"\n", "income_weak_below"),
            ("income_ordinary_below = 40000\n", "income_ordinary_below"),
            ("income_weak_below = 120000\n", "income_weak_below"),
            (
                "income_weak_below = 120000\nincome_ordinary_below = 110000\n",
                "income_ordinary_below",
            ),
        ] {
            std::fs::write(&file, text).expect("write");
            let err = Config::load(Some(&file), |_| None, None, None).expect_err(text);
            assert!(
                matches!(&err, ConfigError::Invalid { key: k, .. } if k == key),
                "{text}: {err}"
            );
            assert!(err.to_string().contains(key), "{err}");
        }
        std::fs::write(&file, "income_ordinary_below = 40000\n").expect("write");
        let err = Config::load(Some(&file), |_| None, None, None).expect_err("not increasing");
        assert_eq!(
            err.to_string(),
            "configuration: income_ordinary_below: the ordinary-village threshold (40,000.00 yuan) must be \
             above the weak-village threshold (50,000.00 yuan)"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("ringline.db"), "ringline.db");
    }
}
