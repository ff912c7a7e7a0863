//! Builds the application: pool (with migrations), templates, session store, middleware and
//! routes; used by `main` and by the integration tests alike.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::config::PersistentSession;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tokio::sync::watch;

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::jobs::worker::Worker;
use crate::render::Renderer;
use crate::users::sessions::DbSessionStore;
use crate::web::{errors, middleware, routes, AppState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "posthaste_session";

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    worker: Option<Worker>,
}

impl Application {
    /// Connects to the database (running migrations), loads templates and binds the listener.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database, config.db_pool_size)?;
        let listener = TcpListener::bind(config.addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        Self::build_with(config, pool, listener)
    }

    /// Like [`Application::build`] with a given pool and listener.
    pub fn build_with(config: Config, pool: DbPool, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let renderer = Arc::new(Renderer::new(config.theme_dir.as_deref())?);
        let key = Key::from(&config.cookie_key);
        let secure = config.cookie_secure;
        let ttl = actix_web::cookie::time::Duration::seconds(config.session_ttl.as_secs() as i64);
        let workers = config.workers;
        let config = Arc::new(config);
        let worker = if config.worker {
            Some(Worker::new(pool.clone(), config.clone(), renderer.clone())?)
        } else {
            None
        };
        let state = web::Data::new(AppState::new(pool.clone(), renderer, config));
        let store = DbSessionStore::new(pool.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    AppError::BadRequest("That link has a malformed query string.".into()).into()
                }))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()),
                )
                .wrap(errors::handlers())
                .wrap(
                    SessionMiddleware::builder(store.clone(), key.clone())
                        .cookie_name(SESSION_COOKIE.into())
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_secure(secure)
                        .session_lifecycle(PersistentSession::default().session_ttl(ttl))
                        .build(),
                )
                .wrap(middleware::security_headers())
                .wrap(from_fn(middleware::log_request))
                .configure(routes)
        })
        .workers(workers)
        .shutdown_timeout(20)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            pool,
            worker,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool the app uses.
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves (and runs the job worker) until SIGINT/SIGTERM, then finishes in-flight requests
    /// and the job in hand (graceful shutdown). Pending jobs stay in the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let worker = self.worker.map(|w| tokio::spawn(w.run(stopped)));
        let result = self.server.await;
        let _ = stop.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        result
    }
}
