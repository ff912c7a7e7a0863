//! #tags become links to tag pages, with recent tags in the sidebar.
//!
//! - `post_content` (priority 10, between core's Markdown and its mention and URL links):
//!   `#Release` becomes a link to `/t/release` (rules in [`parse`]).
//! - `post_saved` (inside the post's write transaction): the post's or reply's tags go into
//!   the `post_tags` table; an edit replaces them, a deletion removes them.
//! - `GET /t/{tag}`: the live posts and replies with that tag, newest first, 20 a page.
//! - `sidebar`: the most-used tags of recent posts, rendered on `tick` and kept in memory.

pub mod page;
pub mod parse;
pub mod sidebar;
pub mod store;

use actix_web::web;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use posthaste::hooks::{
    Change, Content, HookCtx, HookError, Migrations, Plugin, Registry, Routes, SavedPost, Slot,
    Tick, DEFAULT_PRIORITY,
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// The plugin. It owns the sidebar's rendered HTML, which its `tick` action refreshes and its
/// `sidebar` filter serves.
#[derive(Default)]
pub struct Tags {
    sidebar: sidebar::Cache,
}

impl Plugin for Tags {
    fn name(&self) -> &'static str {
        "tags"
    }
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn description(&self) -> &'static str {
        "#tags become links to tag pages, with recent tags in the sidebar."
    }

    fn register(&self, r: &mut Registry) -> Result<(), String> {
        r.hooks.post_content.add(
            r.me(),
            DEFAULT_PRIORITY,
            |mut c: Content| -> Result<Content, HookError> {
                c.events = parse::link_tags(std::mem::take(&mut c.events));
                Ok(c)
            },
        );

        r.hooks.post_saved.add(
            r.me(),
            DEFAULT_PRIORITY,
            |ctx: &mut HookCtx<'_>, e: &SavedPost| -> Result<(), HookError> {
                match e.change {
                    Change::Published | Change::Edited => {
                        let tags = parse::extract(&e.post.body_md);
                        let fresh = e.change == Change::Published;
                        store::replace(ctx.conn, &e.post, &tags, fresh)?;
                    }
                    Change::Deleted => {
                        store::remove(ctx.conn, e.post.id)?;
                    }
                }
                Ok(())
            },
        );

        let fill = self.sidebar.clone();
        r.hooks.tick.add(
            r.me(),
            DEFAULT_PRIORITY,
            move |ctx: &mut HookCtx<'_>, _: &Tick| -> Result<(), HookError> {
                let top = store::top_recent(ctx.conn, sidebar::RECENT_ROWS, sidebar::SHOWN)?;
                fill.set(sidebar::render(&top));
                Ok(())
            },
        );
        let show = self.sidebar.clone();
        r.hooks.sidebar.add(
            r.me(),
            DEFAULT_PRIORITY,
            move |mut slot: Slot| -> Result<Slot, HookError> {
                if slot.viewer.is_some() {
                    let html = show.get();
                    if !html.is_empty() {
                        slot.html.push_str(&html);
                    }
                }
                Ok(slot)
            },
        );
        Ok(())
    }

    fn routes(&self, routes: &mut Routes) {
        routes.route("/t/{tag}", web::get().to(page::tag_page));
    }

    fn migrations(&self) -> Option<Migrations> {
        Some(Migrations {
            sqlite: SQLITE_MIGRATIONS,
            mysql: MYSQL_MIGRATIONS,
        })
    }
}
