//! Posts new top-level posts to a Mastodon account.

use posthaste::hooks::{Plugin, Registry};

/// The plugin.
#[derive(Default)]
pub struct Crosspost;

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
    fn register(&self, _r: &mut Registry) -> Result<(), String> {
        Ok(())
    }
}
