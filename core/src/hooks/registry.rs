//! The registry of hook points ([`Hooks`]), how plugins fill it at start ([`Registry`],
//! [`Plugin`]) and the plumbing around plugins: their routes, templates, migrations, job
//! runners and on/off switches.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::{guard, web};
use diesel::prelude::*;
use diesel_migrations::EmbeddedMigrations;
use figment::providers::Serialized;
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::points::*;
use super::{content, Action, Filter, Owner};
use crate::config::Config;
use crate::db::schema::{posts, users};
use crate::db::{DbConn, DbPool};
use crate::jobs::{self, Job};
use crate::posts::Post;
use crate::users::Profile;

/// A plugin: a crate under `plugins/`, compiled in, switched on or off at run time.
///
/// `register` runs once at start for every compiled-in plugin, on or off: its registrations
/// only run while it is on. Routes, templates and migrations are always installed (a switched
/// off plugin's routes answer 404; its tables stay).
pub trait Plugin: Send + Sync + 'static {
    /// Unique short name (`tags`), used in `POSTHASTE_PLUGINS`, logs and settings.
    fn name(&self) -> &'static str;
    /// Version (usually `env!("CARGO_PKG_VERSION")`).
    fn version(&self) -> &'static str;
    /// One line for the admin page.
    fn description(&self) -> &'static str;
    /// Registers hook functions (and job runners). An error stops the start-up with it.
    fn register(&self, r: &mut Registry) -> Result<(), String>;
    /// Adds HTTP routes (answered only while the plugin is on).
    fn routes(&self, _routes: &mut Routes) {}
    /// Handlebars templates `(name, source)`; name them `plugin-name/...`. A theme folder can
    /// override them like core templates.
    fn templates(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    /// The plugin's own tables, as diesel migrations for both backends (versions must not
    /// collide with core's or other plugins': prefix them with a date you own).
    fn migrations(&self) -> Option<Migrations> {
        None
    }
}

/// A plugin's migrations, one set per backend (`diesel_migrations::embed_migrations!`).
pub struct Migrations {
    /// For SQLite.
    pub sqlite: EmbeddedMigrations,
    /// For MySQL/MariaDB.
    pub mysql: EmbeddedMigrations,
}

/// What a plugin's job runner gets: its task and the means to do it.
pub struct JobCtx {
    /// The JSON the plugin enqueued (`HookCtx::enqueue`).
    pub task: serde_json::Value,
    /// The job's row id (stable across retries: use it as an idempotency key).
    pub job_id: i32,
    /// This try, from 1.
    pub attempt: i32,
    /// The database pool (use it on a blocking thread: `actix_web::web::block`).
    pub pool: DbPool,
}

/// The future a job runner returns: `Err` retries with backoff, then fails visibly.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type JobRunner = dyn Fn(JobCtx) -> JobFuture + Send + Sync;

struct Installed {
    plugin: Arc<dyn Plugin>,
    on: Arc<AtomicBool>,
}

/// A compiled-in plugin as the admin page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Name.
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
    /// One line.
    pub description: &'static str,
    /// Switched on now.
    pub on: bool,
}

/// Every hook point. Built once at start by [`Registry::build`], then shared read-only.
pub struct Hooks {
    /// Filter: a post's or reply's content while it is rendered at save time.
    pub post_content: Filter<Content>,
    /// Filter: every email just before it is sent.
    pub outgoing_mail: Filter<OutgoingMail>,
    /// Filter: extra HTML in the page `<head>`.
    pub page_head: Filter<Slot>,
    /// Filter: the sidebar's HTML.
    pub sidebar: Filter<Slot>,
    /// Filter: which posts the front page hides or pins.
    pub front_query: Filter<FrontQuery>,
    /// Action, inside the write transaction: a post or reply was published, edited or deleted.
    pub post_saved: Action<SavedPost>,
    /// Action, after commit (worker): a top-level post was published.
    pub post_published: Action<PostEvent>,
    /// Action, after commit (worker): a reply was published.
    pub reply_published: Action<PostEvent>,
    /// Action, after commit (worker): a post or reply was edited.
    pub post_edited: Action<PostEvent>,
    /// Action, after commit (worker): a post or reply was deleted.
    pub post_deleted: Action<PostEvent>,
    /// Action, after commit (worker): a member joined.
    pub user_registered: Action<UserEvent>,
    /// Action, after commit (worker): a post or reply newly mentions members.
    pub mention_recorded: Action<MentionEvent>,
    /// Action, every few seconds on every node: refresh what filters read.
    pub tick: Action<Tick>,
    plugins: Vec<Installed>,
    jobs: HashMap<&'static str, Box<JobRunner>>,
    site_url: String,
}

impl Hooks {
    /// No registrations at all (not even core's content filters).
    pub fn empty() -> Self {
        Self {
            post_content: Filter::new("post_content"),
            outgoing_mail: Filter::new("outgoing_mail"),
            page_head: Filter::new("page_head"),
            sidebar: Filter::new("sidebar"),
            front_query: Filter::new("front_query"),
            post_saved: Action::new("post_saved"),
            post_published: Action::new("post_published"),
            reply_published: Action::new("reply_published"),
            post_edited: Action::new("post_edited"),
            post_deleted: Action::new("post_deleted"),
            user_registered: Action::new("user_registered"),
            mention_recorded: Action::new("mention_recorded"),
            tick: Action::new("tick"),
            plugins: Vec::new(),
            jobs: HashMap::new(),
            site_url: String::new(),
        }
    }

    /// Core's registrations only (no plugins).
    pub fn core() -> Self {
        let mut h = Self::empty();
        content::register(&mut h);
        h
    }

    /// The compiled-in plugins, in registration order.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        self.plugins
            .iter()
            .map(|i| PluginInfo {
                name: i.plugin.name(),
                version: i.plugin.version(),
                description: i.plugin.description(),
                on: i.on.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Switches a plugin on or off in this process; false if there is no such plugin.
    pub fn set_on(&self, name: &str, on: bool) -> bool {
        match self.plugins.iter().find(|i| i.plugin.name() == name) {
            Some(i) => {
                let was = i.on.swap(on, Ordering::Relaxed);
                if was != on {
                    tracing::info!(plugin = name, on, "plugin switched");
                }
                true
            }
            None => false,
        }
    }

    /// Whether the named plugin is compiled in and on.
    pub fn is_on(&self, name: &str) -> bool {
        self.plugins
            .iter()
            .any(|i| i.plugin.name() == name && i.on.load(Ordering::Relaxed))
    }

    /// The site's absolute base URL (no trailing slash).
    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// Registers every plugin's routes, each guarded by its switch.
    pub fn configure_routes(&self, cfg: &mut web::ServiceConfig) {
        for i in &self.plugins {
            let mut routes = Routes { paths: Vec::new() };
            i.plugin.routes(&mut routes);
            // One resource per path with all its methods: two resources on one path would
            // answer 405 for the second one's method.
            for (path, list) in routes.paths {
                let on = i.on.clone();
                let mut resource =
                    web::resource(path).guard(guard::fn_guard(move |_| on.load(Ordering::Relaxed)));
                for route in list {
                    resource = resource.route(route);
                }
                cfg.service(resource);
            }
        }
    }

    /// Every plugin's templates.
    pub fn templates(&self) -> Vec<(&'static str, &'static str)> {
        self.plugins
            .iter()
            .flat_map(|i| i.plugin.templates())
            .collect()
    }

    /// Runs every plugin's pending migrations (all compiled-in plugins, on or off).
    pub fn run_migrations(&self, conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
        let mut applied = Vec::new();
        for i in &self.plugins {
            if let Some(m) = i.plugin.migrations() {
                let done = crate::db::run_embedded_migrations(conn, m.sqlite, m.mysql)
                    .map_err(|e| anyhow::anyhow!("plugin {}: {e}", i.plugin.name()))?;
                applied.extend(done);
            }
        }
        Ok(applied)
    }

    fn action_active(&self, event: &ActionEvent) -> bool {
        match event {
            ActionEvent::PostPublished { .. } => self.post_published.is_active(),
            ActionEvent::ReplyPublished { .. } => self.reply_published.is_active(),
            ActionEvent::PostEdited { .. } => self.post_edited.is_active(),
            ActionEvent::PostDeleted { .. } => self.post_deleted.is_active(),
            ActionEvent::UserRegistered { .. } => self.user_registered.is_active(),
            ActionEvent::MentionRecorded { .. } => self.mention_recorded.is_active(),
        }
    }

    /// Queues the actions for `events` that some switched-on function listens to, in the
    /// caller's transaction (the outbox: they run after commit, in the worker, and survive a
    /// crash). Nothing is written when nobody listens.
    pub fn queue(&self, conn: &mut DbConn, events: Vec<ActionEvent>) -> QueryResult<()> {
        let list: Vec<Job> = events
            .into_iter()
            .filter(|e| self.action_active(e))
            .map(|event| Job::Action { event })
            .collect();
        if list.is_empty() {
            return Ok(());
        }
        jobs::enqueue(conn, &list)
    }

    fn post_event(&self, conn: &mut DbConn, id: i32) -> QueryResult<Option<PostEvent>> {
        let found: Option<(Post, Profile)> = posts::table
            .inner_join(users::table)
            .filter(posts::id.eq(id))
            .select((Post::as_select(), Profile::as_select()))
            .get_result(conn)
            .optional()?;
        Ok(found.map(|(post, author)| PostEvent {
            url: format!(
                "{}{}",
                self.site_url,
                crate::web::thread_view::permalink(&post)
            ),
            post,
            author,
        }))
    }

    /// Runs the action functions for a queued event (called by the worker).
    pub fn dispatch(&self, conn: &mut DbConn, event: &ActionEvent) -> QueryResult<()> {
        match event {
            ActionEvent::PostPublished { post }
            | ActionEvent::ReplyPublished { post }
            | ActionEvent::PostEdited { post }
            | ActionEvent::PostDeleted { post } => {
                let Some(e) = self.post_event(conn, *post)? else {
                    return Ok(());
                };
                let point = match event {
                    ActionEvent::PostPublished { .. } => &self.post_published,
                    ActionEvent::ReplyPublished { .. } => &self.reply_published,
                    ActionEvent::PostEdited { .. } => &self.post_edited,
                    _ => &self.post_deleted,
                };
                point.notify(conn, &e);
            }
            ActionEvent::UserRegistered { user } => {
                let found = users::table
                    .find(*user)
                    .select(Profile::as_select())
                    .get_result(conn)
                    .optional()?;
                if let Some(user) = found {
                    self.user_registered.notify(conn, &UserEvent { user });
                }
            }
            ActionEvent::MentionRecorded { post, users: ids } => {
                let Some(source) = self.post_event(conn, *post)? else {
                    return Ok(());
                };
                let mentioned = users::table
                    .filter(users::id.eq_any(ids))
                    .order(users::id.asc())
                    .select(Profile::as_select())
                    .load(conn)?;
                self.mention_recorded
                    .notify(conn, &MentionEvent { source, mentioned });
            }
        }
        Ok(())
    }

    /// Runs a plugin's queued task. A task of a switched-off plugin is dropped (logged), so
    /// switching a plugin off also stops its queued work.
    pub fn run_job(&self, plugin: &str, ctx: JobCtx) -> JobFuture {
        if !self.is_on(plugin) {
            tracing::info!(
                plugin,
                job = ctx.job_id,
                "plugin is off; its queued task is dropped"
            );
            return Box::pin(async { Ok(()) });
        }
        match self.jobs.get(plugin) {
            Some(run) => {
                use futures_util::FutureExt;
                // A panic while making or polling the future fails this try (retried later)
                // instead of taking the worker down.
                let fut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(ctx)));
                match fut {
                    Ok(f) => {
                        Box::pin(std::panic::AssertUnwindSafe(f).catch_unwind().map(|r| {
                            r.unwrap_or_else(|_| Err("the job runner panicked".to_string()))
                        }))
                    }
                    Err(_) => Box::pin(async { Err("the job runner panicked".to_string()) }),
                }
            }
            None => {
                let msg = format!("plugin {plugin} has no job runner");
                Box::pin(async move { Err(msg) })
            }
        }
    }
}

/// Where a plugin adds its HTTP routes (see [`Plugin::routes`]).
pub struct Routes {
    paths: Vec<(String, Vec<actix_web::Route>)>,
}

impl Routes {
    /// Serves `route` (e.g. `web::get().to(handler)`) at `path` while the plugin is on; while
    /// it is off the path falls through to the next route (usually 404). Call it once per
    /// method for a path that takes several (`GET` and `POST` of a form).
    pub fn route(&mut self, path: &str, route: actix_web::Route) -> &mut Self {
        match self.paths.iter_mut().find(|(p, _)| p == path) {
            Some((_, list)) => list.push(route),
            None => self.paths.push((path.to_string(), vec![route])),
        }
        self
    }
}

/// What a plugin registers into, during start-up only.
pub struct Registry {
    /// The hook points: `r.hooks.sidebar.add(r.me(), 10, |slot| …)`.
    pub hooks: Hooks,
    current: Owner,
    settings: BTreeMap<String, serde_json::Value>,
    site_title: String,
}

impl Registry {
    /// The owner to register under: the plugin being registered (its switch applies).
    pub fn me(&self) -> Owner {
        self.current.clone()
    }

    /// The site's absolute base URL (no trailing slash), for links in webhooks and mail.
    pub fn site_url(&self) -> &str {
        &self.hooks.site_url
    }

    /// The site's title (`POSTHASTE_SITE_TITLE`), e.g. as the sender name of a webhook.
    pub fn site_title(&self) -> &str {
        &self.site_title
    }

    /// This plugin's settings: the `[plugin_name]` table of `posthaste.toml` (dashes become
    /// underscores), then `POSTHASTE_PLUGIN_NAME_FIELD` environment variables, over
    /// `T::default()`.
    pub fn settings<T: DeserializeOwned + Serialize + Default>(&self) -> Result<T, String> {
        let key = self.current.name().replace('-', "_");
        let mut fig = Figment::from(Serialized::defaults(T::default()));
        if let Some(table) = self.settings.get(&key) {
            fig = fig.merge(Serialized::defaults(table));
        }
        let prefix = format!("{key}_");
        for (k, v) in &self.settings {
            if let Some(field) = k.strip_prefix(&prefix) {
                fig = fig.merge(Serialized::default(field, v));
            }
        }
        fig.extract::<T>()
            .map_err(|e| format!("settings: {}", e.to_string().replace('\n', "; ")))
    }

    /// Registers this plugin's job runner: it gets every task the plugin's action functions
    /// queue with `HookCtx::enqueue`, with retries and backoff on `Err`.
    pub fn on_job(&mut self, f: impl Fn(JobCtx) -> JobFuture + Send + Sync + 'static) {
        self.hooks.jobs.insert(self.current.name(), Box::new(f));
    }

    /// Builds the hooks: core's registrations, then every plugin's (switched on as
    /// `config.plugins` says; the admin page's stored choice is applied after the migrations).
    pub fn build(config: &Config, plugins: Vec<Arc<dyn Plugin>>) -> anyhow::Result<Hooks> {
        let mut names: Vec<&str> = plugins.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            anyhow::bail!("two plugins are called `{}`", w[0]);
        }
        if let Some(unknown) = config.plugins.iter().find(|n| !names.contains(&n.as_str())) {
            anyhow::bail!(
                "POSTHASTE_PLUGINS: there is no plugin `{unknown}` in this build (compiled in: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
        let mut hooks = Hooks::core();
        hooks.site_url = crate::mail::base_url(config);
        let mut r = Registry {
            hooks,
            current: Owner::core(),
            settings: config.plugin_settings.clone(),
            site_title: config.site_title.clone(),
        };
        for p in plugins {
            let on = Arc::new(AtomicBool::new(
                config.plugins.iter().any(|n| n == p.name()),
            ));
            r.current = Owner::plugin(p.name(), on.clone());
            p.register(&mut r)
                .map_err(|e| anyhow::anyhow!("plugin {}: {e}", p.name()))?;
            r.hooks.plugins.push(Installed { plugin: p, on });
        }
        Ok(r.hooks)
    }
}
