//! Refuses posts and replies that contain a credential (the example of docs/plugins.md).

use posthaste::hooks::{Content, HookError, Plugin, Registry};

/// What a pasted secret starts with, and what to call it.
const MARKERS: [(&str, &str); 4] = [
    ("PRIVATE KEY-----", "a private key"),
    ("AKIA", "an AWS access key"),
    ("xoxb-", "a Slack bot token"),
    ("ghp_", "a GitHub token"),
];

/// The first kind of secret in `text`: a marker followed by at least 16 key characters.
pub fn find_secret(text: &str) -> Option<&'static str> {
    let key_char = |c: &char| c.is_ascii_alphanumeric() || "+/=-_".contains(*c);
    MARKERS.iter().find_map(|&(marker, what)| {
        text.match_indices(marker).find_map(|(at, _)| {
            let rest = text[at + marker.len()..].trim_start_matches(['\r', '\n']);
            (rest.chars().take_while(key_char).count() >= 16).then_some(what)
        })
    })
}

#[derive(Default)]
pub struct SecretGuard;

impl Plugin for SecretGuard {
    fn name(&self) -> &'static str {
        "secret-guard"
    }
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn description(&self) -> &'static str {
        "Refuses posts and replies that contain a private key or an API token."
    }
    fn register(&self, r: &mut Registry) -> Result<(), String> {
        // Priority -10: before core's Markdown (0), on the text exactly as written.
        r.hooks
            .post_content
            .add(r.me(), -10, |c: Content| match find_secret(&c.markdown) {
                Some(what) => Err(HookError::Reject(format!(
                    "This looks like {what}. Remove it and revoke it: posts are mailed and kept."
                ))),
                None => Ok(c),
            });
        Ok(())
    }
}
