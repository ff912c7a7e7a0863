//! #tags become links to tag pages, with recent tags in the sidebar.

use posthaste::hooks::{Plugin, Registry};

/// The plugin.
#[derive(Default)]
pub struct Tags;

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
    fn register(&self, _r: &mut Registry) -> Result<(), String> {
        Ok(())
    }
}
