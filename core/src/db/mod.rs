//! Database access: one `DbConn` over SQLite and MySQL/MariaDB, its pool and migrations.
//!
//! Backend-specific SQL stays in this module; everything else speaks diesel's query builder
//! through `DbConn`.

pub mod schema;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// Embedded SQLite (bundled libsqlite3).
    Sqlite(SqliteConnection),
    /// MySQL or MariaDB (needs the `mysql` feature).
    #[cfg(feature = "mysql")]
    Mysql(MysqlConnection),
}

/// The r2d2 pool of [`DbConn`].
pub type DbPool = Pool<ConnectionManager<DbConn>>;
/// A connection checked out of [`DbPool`].
pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path for SQLite.
    Sqlite(PathBuf),
    /// A `mysql://` URL.
    Mysql(String),
}

impl DatabaseUrl {
    /// Parses `mysql://…`, `sqlite://PATH`, `sqlite:PATH` or a plain path.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("is empty".into());
        }
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let url = url.replacen("mariadb://", "mysql://", 1);
            if !cfg!(feature = "mysql") {
                return Err(
                    "names a MySQL/MariaDB database, but this binary was built without \
                     MySQL support: install libmariadb-dev and rebuild with \
                     `cargo build --release --features mysql` (or `--features mysql-bundled`)"
                        .into(),
                );
            }
            return Ok(Self::Mysql(url));
        }
        if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(format!(
                "has an unknown scheme: use mysql://user:pass@host:3306/db, sqlite://PATH or a file path (got `{}`)",
                url.split("://").next().unwrap_or_default()
            ));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The short backend name, for logs and `/healthz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Mysql(_) => "mysql",
        }
    }

    /// The URL diesel's `MultiConnection` understands (it picks the backend by scheme).
    fn connection_string(&self) -> String {
        match self {
            Self::Sqlite(p) => p.to_string_lossy().into_owned(),
            Self::Mysql(u) => u.clone(),
        }
    }
}

/// Counts the SQL statements a pool's connections run (for tests that prove a page costs a
/// fixed number of queries). Cheap: one relaxed atomic add per statement.
#[derive(Debug, Clone, Default)]
pub struct QueryCounter(Arc<AtomicU64>);

impl QueryCounter {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Per-connection setup run whenever the pool opens a connection.
#[derive(Debug)]
struct ConnectionSetup {
    counter: QueryCounter,
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        let counter = self.counter.0.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        match conn {
            DbConn::Sqlite(c) => c
                .batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError),
            #[cfg(feature = "mysql")]
            DbConn::Mysql(_) => Ok(()),
        }
    }
}

/// Opens the pool, creating the SQLite file's folder or the MySQL database if needed, and
/// runs pending migrations.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<DbPool> {
    connect_counted(url, max_size, QueryCounter::default())
}

/// Like [`connect`], counting every statement into `counter`.
pub fn connect_counted(
    url: &DatabaseUrl,
    max_size: u32,
    counter: QueryCounter,
) -> anyhow::Result<DbPool> {
    prepare(url)?;
    let manager = ConnectionManager::<DbConn>::new(url.connection_string());
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup { counter }))
        .build(manager)
        .map_err(|e| anyhow::anyhow!("cannot open the {} database: {e}", url.backend()))?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

/// Runs every pending migration of the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    run_embedded_migrations(conn, SQLITE_MIGRATIONS, MYSQL_MIGRATIONS)
}

/// Runs the pending migrations of one set (core's or a plugin's) for the connection's backend.
/// Sets share diesel's version table, so their versions must differ.
pub fn run_embedded_migrations(
    conn: &mut DbConn,
    sqlite: EmbeddedMigrations,
    mysql: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    let _ = mysql;
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(sqlite),
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => c.run_pending_migrations(mysql),
    }
    .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    Ok(applied.iter().map(|m| m.to_string()).collect())
}

/// Backend-specific preparation done once before the pool opens: the SQLite folder and WAL
/// mode; the MySQL database itself (with utf8mb4) and a readable connection error (diesel's
/// MultiConnection reports every MySQL failure as "invalid connection url").
fn prepare(url: &DatabaseUrl) -> anyhow::Result<()> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the database folder {}: {e}", dir.display())
                })?;
            }
            let mut c = SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| {
                anyhow::anyhow!("cannot open SQLite database {}: {e}", path.display())
            })?;
            // WAL once per database file: setting it per pooled connection races ("locked").
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            Ok(())
        }
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql(u) => mysql_prepare(u),
        #[cfg(not(feature = "mysql"))]
        DatabaseUrl::Mysql(_) => anyhow::bail!("this binary was built without MySQL support"),
    }
}

#[cfg(feature = "mysql")]
fn mysql_prepare(url: &str) -> anyhow::Result<()> {
    match MysqlConnection::establish(url) {
        Ok(_) => Ok(()),
        Err(ConnectionError::BadConnection(msg)) if msg.contains("Unknown database") => {
            let (server, name) = split_mysql_db(url)
                .ok_or_else(|| anyhow::anyhow!("DATABASE_URL names no database: {msg}"))?;
            let mut c = MysqlConnection::establish(&server)
                .map_err(|e| anyhow::anyhow!("cannot connect to MySQL: {e}"))?;
            c.batch_execute(&format!(
                "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            .map_err(|e| anyhow::anyhow!("cannot create MySQL database `{name}`: {e}"))?;
            tracing::info!(database = %name, "created MySQL database");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("cannot connect to MySQL: {e}")),
    }
}

/// Splits `mysql://user@host:3306/db?x` into the server URL and a safe database name.
#[cfg(feature = "mysql")]
fn split_mysql_db(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("mysql://")?;
    let slash = rest.find('/')?;
    let (before, after) = rest.split_at(slash);
    let name = after[1..].split('?').next()?.to_string();
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then(|| (format!("mysql://{before}/"), name))
}

/// Runs `$body` with `$c` bound to the backend's own connection: for the few statements
/// diesel cannot express through `MultiConnection` (multi-row inserts, last insert id).
/// Defined per feature here, so plugin crates (which have no `mysql` feature of their own)
/// get the arms this build of the core has.
#[cfg(feature = "mysql")]
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Mysql($c) => $body,
        }
    };
}

/// See the `mysql` variant above: the same without MySQL.
#[cfg(not(feature = "mysql"))]
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

diesel::define_sql_function! {
    /// SQLite's id of the last inserted row on this connection.
    fn last_insert_rowid() -> BigInt;
}
#[cfg(feature = "mysql")]
diesel::define_sql_function! {
    /// MySQL's id of the last inserted row on this connection.
    #[sql_name = "LAST_INSERT_ID"]
    fn mysql_last_insert_id() -> Unsigned<BigInt>;
}

/// The id of the row the previous INSERT on this connection created. Call it inside the same
/// transaction as the insert.
pub fn last_insert_id(conn: &mut DbConn) -> QueryResult<i32> {
    let id: i64 = match conn {
        DbConn::Sqlite(c) => diesel::select(last_insert_rowid()).get_result::<i64>(c)?,
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => diesel::select(mysql_last_insert_id()).get_result::<u64>(c)? as i64,
    };
    i32::try_from(id).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// A query with `LIMIT n` written into the SQL text instead of bound.
///
/// SQLite (3.45+) treats a bound LIMIT as a constant of the plan, so re-binding it expires the
/// prepared statement and every execution pays a full re-parse. Hot queries with a fixed page
/// size use this instead of `.limit()`; PK lookups use `get_result` (no LIMIT) instead of
/// `first`.
#[derive(Debug, Clone, Copy)]
pub struct LiteralLimit<Q> {
    query: Q,
    limit: u32,
}

/// Adds [`LiteralLimit`] to query builders.
pub trait LiteralLimitDsl: Sized {
    /// `self LIMIT n` with `n` in the SQL text.
    fn literal_limit(self, limit: u32) -> LiteralLimit<Self> {
        LiteralLimit { query: self, limit }
    }
}

impl<Q: diesel::query_builder::Query> LiteralLimitDsl for Q {}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for LiteralLimit<Q> {
    type QueryId = ();
    // Cached by its SQL text, which includes the limit.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for LiteralLimit<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(&format!(" LIMIT {}", self.limit));
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for LiteralLimit<Q> {}

/// Checks the database answers (for `/healthz`).
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
        .get_result::<i32>(conn)
        .map(|_| ())
}

/// Now in UTC, truncated to microseconds so both backends store exactly the same value.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(DatabaseUrl::parse("postgres://x/y").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
        let my = DatabaseUrl::parse("mysql://root@127.0.0.1:3306/db");
        if cfg!(feature = "mysql") {
            assert_eq!(my.unwrap().backend(), "mysql");
        } else {
            assert!(my.unwrap_err().contains("--features mysql"));
        }
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn splits_mysql_database_name() {
        assert_eq!(
            split_mysql_db("mysql://root@127.0.0.1:3306/some_db?ssl_mode=disabled"),
            Some(("mysql://root@127.0.0.1:3306/".into(), "some_db".into()))
        );
        assert_eq!(split_mysql_db("mysql://root@h/bad`name"), None);
    }
}
