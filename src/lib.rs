//! The Posthaste product: the core library (`posthaste`) plus the plugins shipped with it.
//! The `posthaste` binary (src/main.rs) and the end-to-end tests start the app with
//! [`plugins`].

use std::sync::Arc;

use posthaste::hooks::Plugin;

/// Every plugin compiled into this build, in registration order. Which of them run is
/// configuration (`POSTHASTE_PLUGINS`) and the admin page.
pub fn plugins() -> Vec<Arc<dyn Plugin>> {
    vec![
        Arc::new(posthaste_tags::Tags::default()),
        Arc::new(posthaste_webhooks::Webhooks),
        Arc::new(posthaste_mastodon_crosspost::Crosspost::default()),
        Arc::new(posthaste_secret_guard::SecretGuard),
    ]
}
