//! `TestApp`: the app started in-process on 127.0.0.1:0 with a fresh database, and an HTTP
//! client with a cookie jar that does not follow redirects (so tests can see them).

use std::net::TcpListener;
use std::sync::Arc;

use diesel::prelude::*;
use posthaste::config::{Config, RawSettings};
use posthaste::db::{self, DbConn, DbPool, QueryCounter};
use posthaste::startup::Application;
use posthaste::users::{
    self, password, DisplayName, Email, NewUser, Password, Role, User, Username,
};
use reqwest::redirect::Policy;
use reqwest::Response;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
}

/// Runs each listed `async fn NAME(backend: Backend)` as `NAME::sqlite` and `NAME::mysql`
/// (for tests that start apps with their own settings).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    if $crate::helpers::mysql_server().is_some() {
                        super::$name($crate::helpers::Backend::Mysql).await
                    }
                }
            }
        )*
    };
}

/// Runs each listed test on both backends: `mod NAME { fn sqlite(); fn mysql(); }`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: $crate::helpers::TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await.unwrap()).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Mysql).await {
                        run(app).await
                    }
                }
            }
        )*
    };
}

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// The MySQL server for tests, if any (`mysql://root@127.0.0.1:3306`).
pub fn mysql_server() -> Option<String> {
    match std::env::var("POSTHASTE_TEST_MYSQL_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().trim_end_matches('/').to_string()),
        _ => {
            if std::env::var("POSTHASTE_TEST_REQUIRE_MYSQL").is_ok_and(|v| v == "1") {
                panic!("POSTHASTE_TEST_REQUIRE_MYSQL=1 but POSTHASTE_TEST_MYSQL_URL is not set");
            }
            None
        }
    }
}

/// A running app.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub backend: Backend,
    pub config: Config,
    pub data_dir: Arc<tempfile::TempDir>,
    pub queries: QueryCounter,
    mysql_db: Option<Arc<TestDatabase>>,
}

/// A test's own database: its URL, and for MySQL a fresh database dropped when this is.
pub struct TestDatabase {
    /// `DATABASE_URL` for the app.
    pub url: String,
    mysql: Option<(String, String)>,
}

impl TestDatabase {
    /// An SQLite file in `dir`, or a fresh MySQL database name on the test server (None: MySQL
    /// asked for but not configured: skip). The app creates the MySQL database on start.
    pub fn new(backend: Backend, dir: &std::path::Path) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self {
                url: format!("sqlite://{}", dir.join("test.db").display()),
                mysql: None,
            }),
            Backend::Mysql => {
                let server = mysql_server()?;
                if !cfg!(feature = "mysql") {
                    panic!("POSTHASTE_TEST_MYSQL_URL is set but the tests were built without --features mysql");
                }
                let name = format!(
                    "ph_test_{:x}_{:x}",
                    std::process::id(),
                    rand::random::<u64>()
                );
                Some(Self {
                    url: format!("{server}/{name}"),
                    mysql: Some((server, name)),
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        #[cfg(feature = "mysql")]
        if let Some((server, name)) = &self.mysql {
            if let Ok(mut c) = diesel::MysqlConnection::establish(&format!("{server}/")) {
                use diesel::connection::SimpleConnection;
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
            }
        }
        let _ = &self.mysql;
    }
}

pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// Starts the app on `backend` (None: MySQL requested but not configured: skip).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, adjusting the settings first.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut RawSettings),
    ) -> Option<TestApp> {
        Self::spawn_with_plugins(backend, adjust, posthaste_app::plugins()).await
    }

    /// Like `spawn_with`, with these plugins compiled in instead of the shipped ones.
    pub async fn spawn_with_plugins(
        backend: Backend,
        adjust: impl FnOnce(&mut RawSettings),
        plugins: Vec<Arc<dyn posthaste::hooks::Plugin>>,
    ) -> Option<TestApp> {
        let data_dir = Arc::new(tempfile::tempdir().unwrap());
        let database = Arc::new(TestDatabase::new(backend, data_dir.path())?);
        let mut raw = RawSettings {
            database_url: Some(database.url.clone()),
            data_dir: data_dir.path().to_path_buf(),
            addr: Some("127.0.0.1:0".into()),
            gravatar: false,
            workers: Some(2),
            db_pool_size: 8,
            log: "warn".into(),
            ..RawSettings::default()
        };
        adjust(&mut raw);
        let config = raw.validate().expect("test config");
        Some(Self::start(
            backend,
            config,
            data_dir,
            Some(database),
            plugins,
        ))
    }

    /// Starts an app process with `config` on its own pool (counting its queries) and port.
    fn start(
        backend: Backend,
        config: Config,
        data_dir: Arc<tempfile::TempDir>,
        mysql_db: Option<Arc<TestDatabase>>,
        plugins: Vec<Arc<dyn posthaste::hooks::Plugin>>,
    ) -> TestApp {
        let queries = QueryCounter::default();
        let pool = db::connect_counted(&config.database, config.db_pool_size, queries.clone())
            .expect("database");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app =
            Application::build_with(config.clone(), pool.clone(), listener, plugins).expect("app");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: cookie_client(),
            pool,
            backend,
            config,
            data_dir,
            queries,
            mysql_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    /// The CSRF token of this client's session (fetched from a page's meta tag).
    pub async fn csrf(&self) -> String {
        for path in ["/", "/login", "/setup"] {
            let r = self.get(path).await;
            if r.status() == 200 {
                return csrf_in(&r.text().await.unwrap()).expect("csrf meta tag");
            }
        }
        panic!("no page gave a CSRF token");
    }

    /// POSTs a form with this client's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// Runs database work directly (test setup and checks).
    pub fn db<T>(&self, f: impl FnOnce(&mut DbConn) -> T) -> T {
        let mut c = self.pool.get().unwrap();
        f(&mut c)
    }

    /// Creates an account directly in the database.
    pub fn create_user(&self, username: &str, pw: &str, role: Role) -> User {
        let new = NewUser {
            username: Username::parse(username).unwrap(),
            email: Email::parse(&format!("{username}@example.com")).unwrap(),
            display_name: DisplayName::parse(&format!("{} Tester", capitalize(username))).unwrap(),
            role,
        };
        let hash = password::hash(&Password::parse(pw).unwrap()).unwrap();
        self.db(|c| users::create(c, &posthaste::hooks::Hooks::core(), &new, &hash, false).unwrap())
    }

    /// Signs this app's client in.
    pub async fn login(&self, login: &str, pw: &str) -> Response {
        self.post_form(
            "/login",
            &[("login", login), ("password", pw), ("next", "/")],
        )
        .await
    }

    /// Creates the admin through the first-run page and leaves the client signed in.
    pub async fn setup_admin(&self) {
        let r = self
            .post_form(
                "/setup",
                &[
                    ("username", ADMIN),
                    ("display_name", "Ada Admin"),
                    ("email", "admin@example.com"),
                    ("password", ADMIN_PASSWORD),
                    ("password_confirm", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "setup");
        assert_eq!(location(&r), "/");
    }

    /// Posts from the front page (plain form).
    pub async fn publish(&self, body: &str) -> Response {
        self.post_form("/posts", &[("body", body)]).await
    }

    /// Publishes a reply as this client (plain form) and returns the new reply's id.
    pub async fn reply(&self, thread: i32, parent: i32, body: &str) -> i32 {
        let r = self
            .post_form(
                &format!("/p/{thread}/replies"),
                &[("parent_id", &parent.to_string()), ("body", body)],
            )
            .await;
        assert_eq!(r.status(), 303, "reply to {parent}");
        let loc = location(&r);
        loc.rsplit("#r-")
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("reply anchor in {loc}"))
    }

    /// Publishes a post and returns its id.
    pub async fn post_id(&self, body: &str) -> i32 {
        let r = self.publish(body).await;
        assert_eq!(r.status(), 303);
        location(&r).trim_start_matches("/#p-").parse().unwrap()
    }

    /// Number of rows in `posts`.
    pub fn post_count(&self) -> i64 {
        use posthaste::db::schema::posts;
        self.db(|c| posts::table.count().get_result(c).unwrap())
    }

    /// Another app process ("node") on the same database, with its own pool, port and job
    /// worker; `adjust` changes its settings.
    pub async fn spawn_node(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        self.spawn_node_with_plugins(adjust, posthaste_app::plugins())
            .await
    }

    /// Like `spawn_node`, with these plugins compiled in.
    pub async fn spawn_node_with_plugins(
        &self,
        adjust: impl FnOnce(&mut Config),
        plugins: Vec<Arc<dyn posthaste::hooks::Plugin>>,
    ) -> TestApp {
        let mut config = self.config.clone();
        adjust(&mut config);
        Self::start(
            self.backend,
            config,
            self.data_dir.clone(),
            self.mysql_db.clone(),
            plugins,
        )
    }

    /// Waits (up to 10 s) until the job queue has nothing pending or running.
    pub async fn wait_queue_idle(&self) {
        use posthaste::db::schema::jobs;
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let busy: i64 = self.db(|c| {
                jobs::table
                    .filter(jobs::state.eq_any(["pending", "running"]))
                    .count()
                    .get_result(c)
                    .unwrap()
            });
            if busy == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "{busy} jobs still queued"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The first `.eml` file the app wrote (mail without SMTP), waiting up to 10 s for it.
    pub async fn first_mail_file(&self) -> String {
        let dir = self.data_dir.path().join("mail");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found = std::fs::read_dir(&dir).ok().and_then(|d| {
                d.filter_map(Result::ok)
                    .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
            });
            if let Some(f) = found {
                return std::fs::read_to_string(f.path()).unwrap();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no .eml in {}",
                dir.display()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A second, independent browser session against the same app.
    pub fn other_client(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            port: self.port,
            client: cookie_client(),
            pool: self.pool.clone(),
            backend: self.backend,
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            queries: self.queries.clone(),
            mysql_db: self.mysql_db.clone(),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The CSRF token in a page's `<meta name="csrf-token">`.
pub fn csrf_in(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(r#"meta[name="csrf-token"]"#).unwrap();
    doc.select(&sel)
        .next()?
        .value()
        .attr("content")
        .map(str::to_string)
}

/// A response's `Location`.
pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The ids of `article.post` elements on a page, in order.
pub fn post_ids(html: &str) -> Vec<i32> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("article.post").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().id()?.strip_prefix("p-")?.parse().ok())
        .collect()
}

/// The `href` of the first element matching `selector`.
pub fn href_of(html: &str, selector: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()?
        .value()
        .attr("href")
        .map(|s| s.replace("&amp;", "&"))
}

/// Runs `cmd` (the binary, usually) with `input` on its standard input, capturing its output:
/// for `posthaste user add --password-stdin`.
pub fn run_with_input(mut cmd: std::process::Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for the command")
}

/// The CSRF token of the page at `url`, fetched with `client` (its session).
pub async fn csrf_of(client: &reqwest::Client, url: &str) -> String {
    let page = client.get(url).send().await.unwrap().text().await.unwrap();
    csrf_in(&page).expect("csrf meta tag")
}
