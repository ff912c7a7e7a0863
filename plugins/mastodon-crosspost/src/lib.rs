//! Posts new top-level posts to a Mastodon account: members opt in on `/mastodon`; when one
//! of them publishes a post, the status (its title or first words, and the link back) goes to
//! `POST {instance_url}/api/v1/statuses` through the durable job queue, with retries.
//!
//! See README.md for the settings.

mod page;
mod send;
pub mod settings;
pub mod status;
mod store;

use std::sync::{Arc, RwLock};

use actix_web::web;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use posthaste::hooks::{
    HookCtx, HookError, Migrations, Plugin, PostEvent, Registry, Routes, Slot, DEFAULT_PRIORITY,
};

use send::Sender;
use settings::Settings;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// Late in the sidebar: after the content other plugins put there.
const SIDEBAR_PRIORITY: i32 = 90;

/// The plugin. Its configuration is read in [`Plugin::register`] and kept here for its routes.
#[derive(Default)]
pub struct Crosspost {
    sender: RwLock<Option<Arc<Sender>>>,
}

impl Crosspost {
    fn sender(&self) -> Option<Arc<Sender>> {
        match self.sender.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Plugin for Crosspost {
    fn name(&self) -> &'static str {
        "mastodon-crosspost"
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn description(&self) -> &'static str {
        "Posts new top-level posts to a Mastodon account."
    }

    fn register(&self, r: &mut Registry) -> Result<(), String> {
        let settings: Settings = r.settings()?;
        let sender = match settings.account()? {
            Some(account) => Some(Arc::new(Sender::new(account, r.site_url().to_string())?)),
            None => None,
        };
        match self.sender.write() {
            Ok(mut s) => *s = sender.clone(),
            Err(poisoned) => *poisoned.into_inner() = sender.clone(),
        }
        // The runner is there even unconfigured, so tasks queued before the settings were
        // removed are dropped (logged) rather than retried and failed.
        let runner = sender.clone();
        r.on_job(move |ctx| {
            let runner = runner.clone();
            Box::pin(async move {
                match runner {
                    Some(s) => s.run(ctx).await,
                    None => {
                        tracing::info!(
                            job = ctx.job_id,
                            "mastodon-crosspost is not configured; its queued task is dropped"
                        );
                        Ok(())
                    }
                }
            })
        });
        let Some(sender) = sender else {
            tracing::info!("mastodon-crosspost: no instance_url/access_token; nothing is sent");
            return Ok(());
        };
        tracing::info!(
            instance = %sender.account().instance,
            visibility = %sender.account().visibility.as_str(),
            "mastodon-crosspost: configured"
        );
        r.hooks
            .post_published
            .add(r.me(), DEFAULT_PRIORITY, queue_if_opted_in);
        r.hooks.sidebar.add(r.me(), SIDEBAR_PRIORITY, sidebar_link);
        Ok(())
    }

    fn routes(&self, routes: &mut Routes) {
        let account = self.sender().map(|s| Arc::new(s.account().clone()));
        let again = account.clone();
        routes
            .route(
                page::PATH,
                web::get().to(move |state, session, user, q| {
                    page::show(account.clone(), state, session, user, q)
                }),
            )
            .route(
                page::PATH,
                web::post()
                    .to(move |state, user, form| page::save(again.clone(), state, user, form)),
            );
    }

    fn templates(&self) -> Vec<(&'static str, &'static str)> {
        vec![(page::TEMPLATE, include_str!("../templates/settings.hbs"))]
    }

    fn migrations(&self) -> Option<Migrations> {
        Some(Migrations {
            sqlite: SQLITE_MIGRATIONS,
            mysql: MYSQL_MIGRATIONS,
        })
    }
}

/// `post_published`: queues the post for Mastodon when its author opted in. Replies are
/// `reply_published`, never this; the check below only guards against a change of that.
fn queue_if_opted_in(ctx: &mut HookCtx<'_>, e: &PostEvent) -> Result<(), HookError> {
    if e.post.parent_id.is_some() || e.post.deleted_at.is_some() {
        return Ok(());
    }
    if !store::opted_in(ctx.conn, e.post.author_id)? {
        return Ok(());
    }
    ctx.enqueue(serde_json::json!({ "post": e.post.id }))?;
    tracing::debug!(post = e.post.id, "mastodon-crosspost: queued");
    Ok(())
}

/// `sidebar`: a link to `/mastodon` for signed-in members on the front page.
fn sidebar_link(mut slot: Slot) -> Result<Slot, HookError> {
    if slot.viewer.is_some() && slot.page == "front" {
        slot.html.push_str(
            r#"<nav class="sidebar-section mastodon-crosspost-link" aria-label="Mastodon"><a href="/mastodon">Mastodon</a></nav>"#,
        );
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use posthaste::hooks::SlotViewer;

    fn slot(page: &str, signed_in: bool) -> Slot {
        Slot {
            html: String::new(),
            page: page.into(),
            viewer: signed_in.then(|| {
                Arc::new(SlotViewer {
                    id: 1,
                    username: "ana".into(),
                    is_admin: false,
                })
            }),
        }
    }

    #[test]
    fn the_sidebar_link_is_for_signed_in_members_on_the_front_page() {
        let html = sidebar_link(slot("front", true)).unwrap().html;
        assert!(html.contains(r#"href="/mastodon""#), "{html}");
        assert!(sidebar_link(slot("front", false)).unwrap().html.is_empty());
        assert!(sidebar_link(slot("post", true)).unwrap().html.is_empty());
    }
}
