//! Outgoing webhooks: new posts (and, if asked, replies and mentions) are POSTed as
//! Slack/Mattermost/Discord-compatible JSON to the configured URLs.
//!
//! The action functions run in the job worker after the post committed; each builds the
//! payload once and queues one durable plugin task per URL, so every URL is retried on its own
//! (with the queue's backoff, then marked failed on `/admin`) and a slow or broken receiver
//! never holds up posting. See README.md for the settings and the payload.

use std::sync::Arc;
use std::time::Duration;

use posthaste::hooks::{
    HookCtx, HookError, JobCtx, JobFuture, MentionEvent, Plugin, PostEvent, Registry,
    DEFAULT_PRIORITY,
};
use posthaste::posts::{self, title, Post};
use posthaste::users::Profile;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Sent as `User-Agent`.
pub const USER_AGENT: &str = concat!("Posthaste-Webhooks/", env!("CARGO_PKG_VERSION"));

/// At most this many mentioned names in the one-line summary ("and N others" after).
const MAX_NAMES: usize = 10;
/// A headline longer than this is clipped in the summary line (Discord allows 2000 chars).
const MAX_TITLE_CHARS: usize = 150;
/// Words of the body in `post.excerpt`.
const EXCERPT_WORDS: usize = 30;

/// The settings as written: the `[webhooks]` table of `posthaste.toml` or
/// `POSTHASTE_WEBHOOKS_URLS`, `POSTHASTE_WEBHOOKS_EVENTS`, `POSTHASTE_WEBHOOKS_TIMEOUT_SECS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where to POST: http or https URLs (a list, or one comma-separated string).
    #[serde(deserialize_with = "posthaste::config::one_or_many")]
    pub urls: Vec<String>,
    /// Which events to send: `post_published` (default), `reply_published`,
    /// `mention_recorded` (a list, or one comma-separated string).
    #[serde(deserialize_with = "posthaste::config::one_or_many")]
    pub events: Vec<String>,
    /// Give up on one delivery attempt after this many seconds (it is retried later).
    pub timeout_secs: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            events: vec![Event::PostPublished.name().to_string()],
            timeout_secs: 10,
        }
    }
}

/// An event the plugin can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new top-level post.
    PostPublished,
    /// A new reply.
    ReplyPublished,
    /// A post or reply newly mentions members.
    MentionRecorded,
}

impl Event {
    /// Every event, in documentation order.
    pub const ALL: [Event; 3] = [
        Event::PostPublished,
        Event::ReplyPublished,
        Event::MentionRecorded,
    ];

    /// The name used in settings and in the payload's `event`.
    pub fn name(self) -> &'static str {
        match self {
            Event::PostPublished => "post_published",
            Event::ReplyPublished => "reply_published",
            Event::MentionRecorded => "mention_recorded",
        }
    }

    /// The event called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The URLs, trimmed, without duplicates, in the order given.
    pub urls: Vec<String>,
    /// The events to send, without duplicates.
    pub events: Vec<Event>,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl WebhookSettings {
    /// Checks every URL and event name; the error names what is wrong.
    pub fn check(&self) -> Result<Checked, String> {
        let mut urls: Vec<String> = Vec::new();
        for u in &self.urls {
            check_url(u)?;
            if !urls.contains(u) {
                urls.push(u.clone());
            }
        }
        let mut events = Vec::new();
        for name in &self.events {
            let e = Event::parse(name).ok_or_else(|| {
                format!(
                    "events: unknown event `{name}` (known: {})",
                    Event::ALL.map(Event::name).join(", ")
                )
            })?;
            if !events.contains(&e) {
                events.push(e);
            }
        }
        if !(1..=300).contains(&self.timeout_secs) {
            return Err(format!(
                "timeout_secs: {} is not between 1 and 300",
                self.timeout_secs
            ));
        }
        Ok(Checked {
            urls,
            events,
            timeout: Duration::from_secs(self.timeout_secs),
        })
    }
}

fn check_url(u: &str) -> Result<(), String> {
    let parsed =
        reqwest::Url::parse(u).map_err(|e| format!("urls: `{u}` is not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("urls: `{u}` is not an http:// or https:// URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("urls: `{u}` has no host"));
    }
    Ok(())
}

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
    fn register(&self, r: &mut Registry) -> Result<(), String> {
        let checked = r.settings::<WebhookSettings>()?.check()?;
        let client = reqwest::Client::builder()
            .timeout(checked.timeout)
            .user_agent(USER_AGENT)
            // A redirected POST would turn into a GET: report it instead of following it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let configured = Arc::new(checked.urls.clone());
        let timeout = checked.timeout;
        // Always installed, so tasks queued before a restart still run (or are dropped when
        // their URL was removed from the settings).
        r.on_job(move |job: JobCtx| -> JobFuture {
            let (client, configured) = (client.clone(), configured.clone());
            Box::pin(async move { deliver(&client, &configured, timeout, job).await })
        });
        if checked.urls.is_empty() {
            return Ok(());
        }
        let sender = Arc::new(Sender {
            urls: checked.urls,
            site_title: r.site_title().to_string(),
        });
        for event in checked.events {
            let s = sender.clone();
            let me = r.me();
            match event {
                Event::PostPublished => {
                    r.hooks.post_published.add(
                        me,
                        DEFAULT_PRIORITY,
                        move |ctx: &mut HookCtx<'_>, e: &PostEvent| s.queue(ctx, event, e, &[]),
                    );
                }
                Event::ReplyPublished => {
                    r.hooks.reply_published.add(
                        me,
                        DEFAULT_PRIORITY,
                        move |ctx: &mut HookCtx<'_>, e: &PostEvent| s.queue(ctx, event, e, &[]),
                    );
                }
                Event::MentionRecorded => {
                    r.hooks.mention_recorded.add(
                        me,
                        DEFAULT_PRIORITY,
                        move |ctx: &mut HookCtx<'_>, e: &MentionEvent| {
                            if e.mentioned.is_empty() {
                                return Ok(());
                            }
                            s.queue(ctx, event, &e.source, &e.mentioned)
                        },
                    );
                }
            }
        }
        Ok(())
    }
}

/// Turns events into queued deliveries.
struct Sender {
    urls: Vec<String>,
    site_title: String,
}

impl Sender {
    /// Builds the payload and queues one task per URL (in the action's transaction).
    fn queue(
        &self,
        ctx: &mut HookCtx<'_>,
        event: Event,
        e: &PostEvent,
        mentioned: &[Profile],
    ) -> Result<(), HookError> {
        if e.post.deleted_at.is_some() {
            // Deleted before the worker got to it: do not announce it.
            return Ok(());
        }
        let thread_title = if e.post.parent_id.is_none() {
            e.post.headline()
        } else {
            posts::headlines(ctx.conn, &[e.post.thread_id])?
                .remove(&e.post.thread_id)
                .unwrap_or_else(|| e.post.headline())
        };
        let body = payload(&self.site_title, event, e, &thread_title, mentioned);
        for url in &self.urls {
            ctx.enqueue(json!({ "url": url, "payload": body }))?;
        }
        Ok(())
    }
}

/// The name people know the author by.
fn name_of(p: &Profile) -> &str {
    let d = p.display_name.trim();
    if d.is_empty() {
        &p.username
    } else {
        d
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The one readable line: `Ana López posted “Shipped the new login” https://site/p/12`.
pub fn summary(
    event: Event,
    author: &Profile,
    thread_title: &str,
    url: &str,
    mentioned: &[Profile],
) -> String {
    let name = name_of(author);
    let title = clip(thread_title, MAX_TITLE_CHARS);
    match event {
        Event::PostPublished => format!("{name} posted “{title}” {url}"),
        Event::ReplyPublished => format!("{name} replied in “{title}” {url}"),
        Event::MentionRecorded => {
            let mut names: Vec<String> = mentioned
                .iter()
                .take(MAX_NAMES)
                .map(|p| format!("@{}", p.username))
                .collect();
            let more = mentioned.len().saturating_sub(MAX_NAMES);
            if more > 0 {
                names.push(format!("and {more} more"));
            }
            format!("{name} mentioned {} in “{title}” {url}", names.join(", "))
        }
    }
}

/// Slack (and Mattermost) treat `&`, `<` and `>` in `text` as markup.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The first words of the body, without a top-level post's title line.
fn excerpt(post: &Post) -> String {
    let body = if post.parent_id.is_none() && post.title.is_some() {
        title::infer(&post.body_md).1
    } else {
        post.body_md.as_str()
    };
    title::excerpt(body, EXCERPT_WORDS)
}

fn person(p: &Profile) -> Value {
    json!({ "username": p.username, "display_name": p.display_name })
}

/// The JSON body: `text` (Slack, Mattermost) and `content` (Discord) carry the summary line,
/// `username` the site's title; `event`, `post` (and `mentioned`) are for other receivers.
pub fn payload(
    site_title: &str,
    event: Event,
    e: &PostEvent,
    thread_title: &str,
    mentioned: &[Profile],
) -> Value {
    let line = summary(event, &e.author, thread_title, &e.url, mentioned);
    let post = &e.post;
    let mut body = json!({
        "text": slack_escape(&line),
        "content": line,
        // Discord caps the sender name at 80 characters.
        "username": clip(site_title, 80),
        // Discord: never ping anyone (say, a member called @everyone).
        "allowed_mentions": { "parse": [] },
        "event": event.name(),
        "post": {
            "id": post.id,
            "thread_id": post.thread_id,
            "url": e.url,
            "title": thread_title,
            "author": person(&e.author),
            "excerpt": excerpt(post),
            "created_at": post.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    });
    if event == Event::MentionRecorded {
        body["mentioned"] = mentioned.iter().map(person).collect();
    }
    body
}

/// A queued delivery.
#[derive(Debug, Deserialize)]
struct Task {
    url: String,
    payload: Value,
}

/// Where a delivery went, for errors and logs: scheme, host and port only, because webhook
/// URLs (Slack's, Discord's) carry their secret in the path.
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}/…",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(invalid URL)".into(),
    }
}

/// The job runner, one try of one queued delivery: POSTs the payload; 2xx is done; anything
/// else is an error the queue retries.
async fn deliver(
    client: &reqwest::Client,
    configured: &[String],
    timeout: Duration,
    job: JobCtx,
) -> Result<(), String> {
    let task: Task =
        serde_json::from_value(job.task).map_err(|e| format!("unreadable webhook task: {e}"))?;
    if !configured.contains(&task.url) {
        tracing::info!(
            plugin = "webhooks",
            job = job.job_id,
            "the task's URL is no longer in the settings; dropped"
        );
        return Ok(());
    }
    let event = task
        .payload
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let url = &task.url;
    let to = shown(url);
    let resp = client
        .post(url)
        .header("X-Posthaste-Event", event)
        // Stable across retries: receivers can drop a repeat.
        .header("X-Posthaste-Delivery", job.job_id.to_string())
        .json(&task.payload)
        .send()
        .await
        .map_err(|e| format!("POST {to}: {}", network_error(e, timeout)))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let said = snippet(resp).await;
    Err(if said.is_empty() {
        format!("POST {to}: HTTP {}", status.as_u16())
    } else {
        format!("POST {to}: HTTP {}: {said}", status.as_u16())
    })
}

/// What went wrong on the wire, causes included, without repeating the URL.
fn network_error(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}s", timeout.as_secs());
    }
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    parts.join(": ")
}

/// The start of an error response's body, on one line (Slack says `invalid_payload`, Discord
/// a JSON message), for the job's last error.
async fn snippet(mut resp: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 1024 {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    clip(&text.split_whitespace().collect::<Vec<_>>().join(" "), 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use posthaste::config::RawSettings;
    use serde_json::json;

    fn settings(v: Value) -> Result<WebhookSettings, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let s = settings(json!({})).unwrap();
        assert_eq!(s, WebhookSettings::default());
        let c = s.check().unwrap();
        assert!(c.urls.is_empty());
        assert_eq!(c.events, vec![Event::PostPublished]);
        assert_eq!(c.timeout, Duration::from_secs(10));
    }

    #[test]
    fn lists_come_as_lists_or_comma_separated_strings() {
        let a = settings(json!({
            "urls": " https://hooks.slack.com/services/T/B/x , http://10.0.0.1:8065/hooks/abc,,",
            "events": "post_published,reply_published",
        }))
        .unwrap();
        let b = settings(json!({
            "urls": ["https://hooks.slack.com/services/T/B/x", "http://10.0.0.1:8065/hooks/abc"],
            "events": ["post_published", "reply_published"],
        }))
        .unwrap();
        assert_eq!(a, b);
        let c = a.check().unwrap();
        assert_eq!(
            c.urls,
            vec![
                "https://hooks.slack.com/services/T/B/x",
                "http://10.0.0.1:8065/hooks/abc"
            ]
        );
        assert_eq!(c.events, vec![Event::PostPublished, Event::ReplyPublished]);
    }

    #[test]
    fn duplicates_are_sent_once() {
        let c = settings(json!({
            "urls": ["http://a.example/x", "http://a.example/x"],
            "events": ["mention_recorded", "mention_recorded"],
        }))
        .unwrap()
        .check()
        .unwrap();
        assert_eq!(c.urls, vec!["http://a.example/x"]);
        assert_eq!(c.events, vec![Event::MentionRecorded]);
    }

    #[test]
    fn bad_settings_are_named() {
        for (urls, expect) in [
            (
                "ftp://files.example/hook",
                "`ftp://files.example/hook` is not an http",
            ),
            (
                "hooks.slack.com/services/x",
                "`hooks.slack.com/services/x` is not a valid URL",
            ),
            ("http://", "`http://` is not a valid URL"),
            (
                "mailto:ops@example.com",
                "`mailto:ops@example.com` is not an http",
            ),
        ] {
            let err = settings(json!({ "urls": ["https://ok.example/", urls] }))
                .unwrap()
                .check()
                .unwrap_err();
            assert!(err.starts_with("urls: ") && err.contains(expect), "{err}");
        }
        let err = settings(json!({ "events": ["post_published", "post_deleted"] }))
            .unwrap()
            .check()
            .unwrap_err();
        assert!(
            err.contains("unknown event `post_deleted`") && err.contains("reply_published"),
            "{err}"
        );
        let err = settings(json!({ "timeout_secs": 0 }))
            .unwrap()
            .check()
            .unwrap_err();
        assert!(err.contains("timeout_secs"), "{err}");
        assert!(settings(json!({ "url": "http://typo.example/" })).is_err());
    }

    fn registry_with(extra: Value) -> anyhow::Result<posthaste::hooks::Hooks> {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawSettings {
            data_dir: dir.path().to_path_buf(),
            plugins: vec!["webhooks".into()],
            extra: serde_json::from_value(extra).unwrap(),
            ..RawSettings::default()
        };
        let config = raw.validate().unwrap();
        Registry::build(&config, vec![Arc::new(Webhooks)])
    }

    #[test]
    fn settings_from_the_environment_and_the_file_reach_the_plugin() {
        // POSTHASTE_WEBHOOKS_URLS / _EVENTS arrive as `webhooks_urls` strings.
        let hooks = registry_with(json!({
            "webhooks_urls": "http://a.example/1,https://b.example/2",
            "webhooks_events": "reply_published",
        }))
        .unwrap();
        assert!(!hooks.post_published.is_active());
        assert!(hooks.reply_published.is_active());
        assert!(!hooks.mention_recorded.is_active());
        // A `[webhooks]` table.
        let hooks = registry_with(json!({
            "webhooks": { "urls": ["http://a.example/1"], "timeout_secs": 3 },
        }))
        .unwrap();
        assert!(hooks.post_published.is_active());
        assert!(!hooks.reply_published.is_active());
        // No URLs: nothing is registered, so no action jobs are ever queued for it.
        let hooks = registry_with(json!({})).unwrap();
        assert!(!hooks.post_published.is_active());
        // Bad settings stop the start with the plugin's name and the culprit.
        let err = registry_with(json!({ "webhooks_urls": "gopher://old.example/" }))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("plugin webhooks") && err.contains("gopher://old.example/"),
            "{err}"
        );
    }

    fn profile(id: i32, username: &str, display_name: &str) -> Profile {
        Profile {
            id,
            username: username.into(),
            email: format!("{username}@example.com"),
            display_name: display_name.into(),
            role: "member".into(),
        }
    }

    fn event(id: i32, parent: Option<i32>, thread: i32, body: &str) -> PostEvent {
        let (title, _) = if parent.is_none() {
            title::infer(body)
        } else {
            (None, body)
        };
        let at = "2025-03-04T05:06:07".parse().unwrap();
        let url = match parent {
            None => format!("https://team.example/p/{id}"),
            Some(_) => format!("https://team.example/p/{thread}#r-{id}"),
        };
        PostEvent {
            post: Post {
                id,
                author_id: 1,
                parent_id: parent,
                thread_id: thread,
                title,
                body_md: body.into(),
                body_html: String::new(),
                created_at: at,
                updated_at: at,
                edited_at: None,
                deleted_at: None,
            },
            author: profile(1, "ana", "Ana López"),
            url,
        }
    }

    #[test]
    fn a_post_payload() {
        let e = event(
            12,
            None,
            12,
            "Shipped the new login\nIt uses **passkeys** now, see the notes.",
        );
        let p = payload(
            "Team Blog",
            Event::PostPublished,
            &e,
            "Shipped the new login",
            &[],
        );
        assert_eq!(
            p,
            json!({
                "text": "Ana López posted “Shipped the new login” https://team.example/p/12",
                "content": "Ana López posted “Shipped the new login” https://team.example/p/12",
                "username": "Team Blog",
                "allowed_mentions": { "parse": [] },
                "event": "post_published",
                "post": {
                    "id": 12,
                    "thread_id": 12,
                    "url": "https://team.example/p/12",
                    "title": "Shipped the new login",
                    "author": { "username": "ana", "display_name": "Ana López" },
                    "excerpt": "It uses passkeys now, see the notes.",
                    "created_at": "2025-03-04T05:06:07Z",
                },
            })
        );
    }

    #[test]
    fn reply_and_mention_lines() {
        let e = event(15, Some(12), 12, "Nice work & thanks <3");
        assert_eq!(
            summary(Event::ReplyPublished, &e.author, "Shipped", &e.url, &[]),
            "Ana López replied in “Shipped” https://team.example/p/12#r-15"
        );
        let p = payload("Posthaste", Event::ReplyPublished, &e, "Q&A <draft>", &[]);
        assert_eq!(
            p["text"],
            "Ana López replied in “Q&amp;A &lt;draft&gt;” https://team.example/p/12#r-15",
            "Slack markup is escaped in text"
        );
        assert_eq!(
            p["content"],
            "Ana López replied in “Q&A <draft>” https://team.example/p/12#r-15"
        );
        assert_eq!(p["post"]["excerpt"], "Nice work & thanks <3");
        assert!(p.get("mentioned").is_none());

        let who = [profile(2, "ben", "Ben"), profile(3, "cy", "Cy Young")];
        let p = payload("Posthaste", Event::MentionRecorded, &e, "Shipped", &who);
        assert_eq!(
            p["content"],
            "Ana López mentioned @ben, @cy in “Shipped” https://team.example/p/12#r-15"
        );
        assert_eq!(p["event"], "mention_recorded");
        assert_eq!(
            p["mentioned"],
            json!([
                { "username": "ben", "display_name": "Ben" },
                { "username": "cy", "display_name": "Cy Young" },
            ])
        );
    }

    #[test]
    fn errors_show_where_but_not_the_secret_path() {
        assert_eq!(
            shown("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            shown("http://127.0.0.1:8065/hooks/abc"),
            "http://127.0.0.1:8065/…"
        );
        assert_eq!(shown("nonsense"), "(invalid URL)");
    }

    #[test]
    fn long_lists_and_titles_are_clipped() {
        let e = event(3, None, 3, "hello");
        let many: Vec<Profile> = (0..13).map(|i| profile(i, &format!("m{i}"), "M")).collect();
        let line = summary(Event::MentionRecorded, &e.author, "t", &e.url, &many);
        assert!(line.contains("@m9, and 3 more in “t”"), "{line}");
        let long = "x".repeat(500);
        let line = summary(Event::PostPublished, &e.author, &long, &e.url, &[]);
        assert!(line.chars().count() < 250, "{line}");
        // Without a display name the username stands in.
        let mut anon = e.author.clone();
        anon.display_name = " ".into();
        assert!(summary(Event::PostPublished, &anon, "t", &e.url, &[]).starts_with("ana posted"));
    }
}
