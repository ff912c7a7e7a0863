//! Core content processing as ordinary `post_content` filters, so every post exercises the
//! registry: Markdown parsing, @mention links and bare-URL links. A plugin that rewrites text
//! (like `#tags`) registers between them at the default priority and uses
//! [`map_text`] so it never links inside code or inside another link.

use super::{Content, HookError, Hooks, Owner};
use crate::render::markdown;

pub use crate::render::markdown::{link_events, map_text};
/// The event types filters work with (re-exported so plugins use the same pulldown-cmark).
pub use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};

/// Core's Markdown parser: `markdown` → `events`.
pub const MARKDOWN: i32 = 0;
/// Core's mention links (after plugins at the default priority 10).
pub const MENTIONS: i32 = 20;
/// Core's bare-URL links (last, so URLs inside links made earlier stay as they are).
pub const AUTOLINK: i32 = 30;

/// Registers core's content filters.
pub fn register(hooks: &mut Hooks) {
    let core = Owner::core;
    hooks.post_content.add(
        core(),
        MARKDOWN,
        |mut c: Content| -> Result<Content, HookError> {
            if c.events.is_empty() {
                c.events = markdown::parse(&c.markdown);
            }
            Ok(c)
        },
    );
    hooks.post_content.add(
        core(),
        MENTIONS,
        |mut c: Content| -> Result<Content, HookError> {
            if !c.mentions.is_empty() {
                let names = c.mentions.clone();
                c.events = markdown::link_mentions(c.events, &|n| names.get(n).cloned());
            }
            Ok(c)
        },
    );
    hooks.post_content.add(
        core(),
        AUTOLINK,
        |mut c: Content| -> Result<Content, HookError> {
            c.events = markdown::autolink_urls(c.events);
            Ok(c)
        },
    );
}

/// Renders a post's or reply's Markdown through the `post_content` chain, then to sanitized
/// HTML. A filter's `Reject` comes back as the message for the author.
pub fn render(hooks: &Hooks, content: Content) -> Result<String, String> {
    let mut c = hooks
        .post_content
        .apply(content)
        .map_err(|e| e.to_string())?;
    if c.events.is_empty() {
        // Someone removed core's Markdown filter: still store the text.
        c.events = markdown::parse(&c.markdown);
    }
    Ok(markdown::finish(c.events))
}
