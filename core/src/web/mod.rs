//! HTTP: routes, extractors, CSRF, middleware and error pages. Handlers parse input, call one
//! domain function inside [`AppState::db`], and render a template.

pub mod csrf;
pub mod errors;
pub mod extract;
pub mod middleware;
pub mod pages;
pub mod thread_view;
pub mod views;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::web;

use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::error::AppResult;
use crate::hooks::Hooks;
use crate::render::Renderer;

/// What every handler can reach, shared by all workers.
pub struct AppState {
    /// Database pool.
    pub pool: DbPool,
    /// Templates and assets.
    pub renderer: Arc<Renderer>,
    /// Configuration.
    pub config: Arc<Config>,
    /// The hook points, with every plugin's registrations.
    pub hooks: Arc<Hooks>,
    /// Set once the first account exists, to skip the "needs setup?" query afterwards.
    setup_done: AtomicBool,
}

impl AppState {
    /// Builds the state.
    pub fn new(
        pool: DbPool,
        renderer: Arc<Renderer>,
        config: Arc<Config>,
        hooks: Arc<Hooks>,
    ) -> Self {
        Self {
            pool,
            renderer,
            config,
            hooks,
            setup_done: AtomicBool::new(false),
        }
    }

    /// Runs database work on the blocking pool with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Whether the first-run setup still has to create the admin account.
    pub async fn needs_setup(&self) -> AppResult<bool> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let n = self.db(|c| Ok(crate::users::count(c)?)).await?;
        if n > 0 {
            self.setup_done.store(true, Ordering::Relaxed);
        }
        Ok(n == 0)
    }
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{account, assets, auth, front, health, people, settings, thread};
    cfg.route("/", web::get().to(front::index))
        .route("/posts", web::post().to(front::create))
        .route("/p/{id}", web::get().to(thread::permalink))
        .route("/p/{id}/replies", web::get().to(thread::all_replies))
        .route("/p/{id}/replies", web::post().to(thread::create_reply))
        .route("/p/{id}/reply-form", web::get().to(thread::reply_form))
        .route("/p/{id}/edit", web::get().to(thread::edit_form))
        .route("/p/{id}/edit", web::post().to(thread::save_edit))
        .route("/p/{id}/content", web::get().to(thread::content))
        .route("/p/{id}/delete", web::get().to(thread::confirm_delete))
        .route("/p/{id}/delete", web::post().to(thread::delete))
        .route("/mentions", web::get().to(people::mentions_page))
        .route("/u/{username}", web::get().to(people::person_page))
        .route("/api/members", web::get().to(people::members_api))
        .route("/settings", web::get().to(settings::settings_page))
        .route("/settings", web::post().to(settings::save_settings))
        .route(
            "/unsubscribe/{user}/{kind}/{sig}",
            web::get().to(settings::unsubscribe_page),
        )
        .route(
            "/unsubscribe/{user}/{kind}/{sig}",
            web::post().to(settings::unsubscribe),
        )
        .route("/reset", web::get().to(account::reset_request_page))
        .route("/reset", web::post().to(account::reset_request))
        .route("/reset/{token}", web::get().to(account::reset_page))
        .route("/reset/{token}", web::post().to(account::reset))
        .route("/invite/{token}", web::get().to(account::invite_page))
        .route("/invite/{token}", web::post().to(account::accept_invite))
        .route("/admin", web::get().to(account::admin_page))
        .route("/admin/invites", web::post().to(account::invite))
        .route("/admin/jobs/{id}/retry", web::post().to(account::retry_job))
        .route(
            "/admin/plugins/{name}",
            web::post().to(account::switch_plugin),
        )
        .route("/login", web::get().to(auth::login_page))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/setup", web::get().to(auth::setup_page))
        .route("/setup", web::post().to(auth::setup))
        .route("/healthz", web::get().to(health::healthz))
        .route("/assets/{path:.*}", web::get().to(assets::asset));
}
