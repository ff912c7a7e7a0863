//! Builds the application: pool (with migrations), templates, session store, middleware and
//! routes; used by `main` and by the integration tests alike.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

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
use crate::hooks::{switches, Hooks, Plugin, Registry, Tick};
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
    hooks: Arc<Hooks>,
    tick: Duration,
}

impl Application {
    /// Connects to the database (running migrations), registers the plugins' hooks, loads
    /// templates and binds the listener.
    pub fn build(config: Config, plugins: Vec<Arc<dyn Plugin>>) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database, config.db_pool_size)?;
        let listener = TcpListener::bind(config.addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        Self::build_with(config, pool, listener, plugins)
    }

    /// Like [`Application::build`] with a given pool and listener.
    pub fn build_with(
        config: Config,
        pool: DbPool,
        listener: TcpListener,
        plugins: Vec<Arc<dyn Plugin>>,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let hooks = prepare_hooks(&config, &pool, plugins)?;
        let renderer = Arc::new(Renderer::with_templates(
            config.theme_dir.as_deref(),
            &hooks.templates(),
        )?);
        let key = Key::from(&config.cookie_key);
        let secure = config.cookie_secure;
        let ttl = actix_web::cookie::time::Duration::seconds(config.session_ttl.as_secs() as i64);
        let workers = config.workers;
        let config = Arc::new(config);
        let worker = if config.worker {
            Some(Worker::new(
                pool.clone(),
                config.clone(),
                renderer.clone(),
                hooks.clone(),
            )?)
        } else {
            None
        };
        let tick = Duration::from_millis(config.tick_ms);
        let state = web::Data::new(AppState::new(pool.clone(), renderer, config, hooks.clone()));
        let plugin_hooks = hooks.clone();
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
                .configure(|cfg| plugin_hooks.configure_routes(cfg))
                .default_service(web::to(not_found))
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
            hooks,
            tick,
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
        let ticker = tokio::spawn(run_ticks(
            self.pool.clone(),
            self.hooks.clone(),
            self.tick,
            stopped.clone(),
        ));
        let worker = self.worker.map(|w| tokio::spawn(w.run(stopped)));
        let result = self.server.await;
        let _ = stop.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        let _ = ticker.await;
        result
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Registers the plugins' hooks, runs their migrations, applies the plugin switches an admin
/// stored and runs a first `tick` (so plugin caches are warm before the first request).
pub fn prepare_hooks(
    config: &Config,
    pool: &DbPool,
    plugins: Vec<Arc<dyn Plugin>>,
) -> anyhow::Result<Arc<Hooks>> {
    let hooks = Registry::build(config, plugins)?;
    let mut conn = pool.get()?;
    hooks.run_migrations(&mut conn)?;
    switches::refresh(&mut conn, &hooks)?;
    hooks.tick.notify(&mut conn, &Tick { first: true });
    Ok(Arc::new(hooks))
}

/// Every `every`: re-reads the plugin switches (an admin may have changed them on another
/// node) and runs the `tick` hooks, on the blocking pool. Stops with `stop`.
pub async fn run_ticks(
    pool: DbPool,
    hooks: Arc<Hooks>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let (pool, hooks) = (pool.clone(), hooks.clone());
        let done = web::block(move || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            switches::refresh(&mut conn, &hooks)?;
            hooks.tick.notify(&mut conn, &Tick { first: false });
            Ok(())
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "plugin tick failed (database unavailable?)"),
            Err(e) => tracing::warn!(error = %e, "plugin tick failed"),
        }
    }
}
