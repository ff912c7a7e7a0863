//! Sends new posts to Slack, Mattermost or Discord webhooks.

use posthaste::hooks::{Plugin, Registry};

/// The plugin.
#[derive(Default)]
pub struct Webhooks;

impl Plugin for Webhooks {
    fn name(&self) -> &'static str {
        "webhooks"
    }
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn description(&self) -> &'static str {
        "Sends new posts to Slack, Mattermost or Discord webhooks."
    }
    fn register(&self, _r: &mut Registry) -> Result<(), String> {
        Ok(())
    }
}
