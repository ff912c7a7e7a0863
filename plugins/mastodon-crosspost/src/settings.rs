//! The `[mastodon_crosspost]` settings and the account they describe.

use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Deserializer, Serialize};

/// Who can see a cross-posted status on Mastodon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone, and listed on the public timelines.
    Public,
    /// Everyone, but kept off the public timelines.
    #[default]
    Unlisted,
    /// The account's followers only.
    Private,
}

impl Visibility {
    /// The value of Mastodon's `visibility` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }
}

/// The settings as the operator wrote them (`posthaste.toml` table `[mastodon_crosspost]`,
/// or `POSTHASTE_MASTODON_CROSSPOST_*`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `https://mastodon.example` (the server, not a profile URL).
    #[serde(deserialize_with = "loose_string")]
    pub instance_url: Option<String>,
    /// An access token with the `write:statuses` scope.
    #[serde(deserialize_with = "loose_string")]
    pub access_token: Option<String>,
    /// `public`, `unlisted` (default) or `private`.
    pub visibility: Visibility,
    /// How long one call to the API may take.
    pub timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            instance_url: None,
            access_token: None,
            visibility: Visibility::default(),
            timeout_secs: 10,
        }
    }
}

/// Never prints the token.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("instance_url", &self.instance_url)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("visibility", &self.visibility)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// A string, also when an environment variable happened to look like a number.
fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        S(String),
        I(i64),
        U(u64),
    }
    Ok(Option::<Loose>::deserialize(d)?.map(|v| match v {
        Loose::S(s) => s,
        Loose::I(n) => n.to_string(),
        Loose::U(n) => n.to_string(),
    }))
}

/// A configured Mastodon account: where to post, with what.
#[derive(Clone)]
pub struct Account {
    /// `{instance_url}/api/v1/statuses`.
    pub endpoint: Url,
    /// The instance's host (and port), to show members where their posts go.
    pub instance: String,
    /// Visibility of the statuses.
    pub visibility: Visibility,
    /// Per-request timeout.
    pub timeout: Duration,
    token: String,
}

impl Account {
    /// The bearer token (only ever put into the `Authorization` header).
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Never prints the token.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("endpoint", &self.endpoint.as_str())
            .field("visibility", &self.visibility)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Settings {
    /// The account to post to: `None` when neither the URL nor the token is set (the plugin
    /// then does nothing); an error for half a configuration or a URL that is not one.
    pub fn account(&self) -> Result<Option<Account>, String> {
        let (url, token) = match (set(&self.instance_url), set(&self.access_token)) {
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err("instance_url is set but access_token is not".into());
            }
            (None, Some(_)) => {
                return Err("access_token is set but instance_url is not".into());
            }
            (Some(u), Some(t)) => (u, t),
        };
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("access_token must not contain spaces".into());
        }
        if self.timeout_secs == 0 || self.timeout_secs > 300 {
            return Err("timeout_secs must be between 1 and 300".into());
        }
        let (endpoint, instance) = endpoint(url)?;
        Ok(Some(Account {
            endpoint,
            instance,
            visibility: self.visibility,
            timeout: Duration::from_secs(self.timeout_secs),
            token: token.to_string(),
        }))
    }
}

/// `https://mastodon.example` → (`https://mastodon.example/api/v1/statuses`, `mastodon.example`).
fn endpoint(raw: &str) -> Result<(Url, String), String> {
    let bad = |why: &str| format!("instance_url `{raw}` {why}");
    let url = Url::parse(raw).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("must start with https:// (or http://)"));
    }
    let host = url.host_str().ok_or_else(|| bad("has no host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    let instance = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let base = url.as_str().trim_end_matches('/');
    let endpoint = Url::parse(&format!("{base}/api/v1/statuses"))
        .map_err(|e| bad(&format!("is not a URL ({e})")))?;
    Ok((endpoint, instance))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(url: Option<&str>, token: Option<&str>) -> Settings {
        Settings {
            instance_url: url.map(Into::into),
            access_token: token.map(Into::into),
            ..Settings::default()
        }
    }

    #[test]
    fn unconfigured_is_none_and_half_configured_is_an_error() {
        assert!(Settings::default().account().unwrap().is_none());
        assert!(with(Some(" "), Some("")).account().unwrap().is_none());
        assert!(with(Some("https://m.example"), None).account().is_err());
        assert!(with(None, Some("tok")).account().is_err());
    }

    #[test]
    fn endpoint_and_instance_from_the_url() {
        let a = with(Some("https://mastodon.example/"), Some("tok"))
            .account()
            .unwrap()
            .unwrap();
        assert_eq!(
            a.endpoint.as_str(),
            "https://mastodon.example/api/v1/statuses"
        );
        assert_eq!(a.instance, "mastodon.example");
        assert_eq!(a.visibility, Visibility::Unlisted);
        assert_eq!(a.timeout, Duration::from_secs(10));
        let a = with(Some("http://127.0.0.1:4000"), Some("tok"))
            .account()
            .unwrap()
            .unwrap();
        assert_eq!(a.endpoint.as_str(), "http://127.0.0.1:4000/api/v1/statuses");
        assert_eq!(a.instance, "127.0.0.1:4000");
    }

    #[test]
    fn bad_urls_are_refused() {
        for url in [
            "mastodon.example",
            "ftp://mastodon.example",
            "https://",
            "https://user:pw@mastodon.example",
            "https://mastodon.example/?x=1",
        ] {
            assert!(
                with(Some(url), Some("tok")).account().is_err(),
                "{url} should be refused"
            );
        }
    }

    #[test]
    fn the_token_is_never_printed() {
        let s = with(Some("https://m.example"), Some("s3cret-token"));
        assert!(!format!("{s:?}").contains("s3cret"));
        let a = s.account().unwrap().unwrap();
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn visibility_names() {
        for (name, v) in [
            ("public", Visibility::Public),
            ("unlisted", Visibility::Unlisted),
            ("private", Visibility::Private),
        ] {
            let parsed: Visibility = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, v);
            assert_eq!(v.as_str(), name);
        }
        assert!(serde_json::from_value::<Visibility>(serde_json::json!("direct")).is_err());
    }
}
