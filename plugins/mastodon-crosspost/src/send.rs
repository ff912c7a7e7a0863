//! The job runner: turns a queued `{"post": id}` into `POST /api/v1/statuses`.

use actix_web::web;
use posthaste::hooks::JobCtx;
use posthaste::posts::{self, Post, PostId};
use posthaste::web::thread_view;
use serde::Deserialize;

use crate::settings::Account;
use crate::{status, store};

/// What the action queues.
#[derive(Debug, Deserialize)]
struct Task {
    post: i32,
}

/// What Mastodon answers with (only what is logged).
#[derive(Debug, Default, Deserialize)]
struct Posted {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// The account and an HTTP client for it.
pub struct Sender {
    account: Account,
    client: reqwest::Client,
    site_url: String,
}

impl Sender {
    /// A sender posting to `account`, linking to posts under `site_url`.
    pub fn new(account: Account, site_url: String) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(account.timeout)
            .connect_timeout(account.timeout)
            // A redirect is an error to look at, not something to follow with the token.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "posthaste-mastodon-crosspost/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            account,
            client,
            site_url,
        })
    }

    /// The configured account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Runs one queued task: `Ok` when it is done or there is nothing to do, `Err` (with the
    /// reason) to have the queue retry it later.
    pub async fn run(&self, ctx: JobCtx) -> Result<(), String> {
        let task: Task = serde_json::from_value(ctx.task)
            .map_err(|e| format!("unreadable mastodon-crosspost task: {e}"))?;
        let pool = ctx.pool;
        let id = task.post;
        let found = web::block(move || -> Result<Option<(Post, bool)>, String> {
            let mut c = pool.get().map_err(|e| e.to_string())?;
            let Some((post, _author)) =
                posts::find_visible(&mut c, PostId(id)).map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            let wanted = store::opted_in(&mut c, post.author_id).map_err(|e| e.to_string())?;
            Ok(Some((post, wanted)))
        })
        .await
        .map_err(|e| e.to_string())??;
        let Some((post, wanted)) = found else {
            tracing::info!(
                post = id,
                "mastodon-crosspost: the post was deleted; not sent"
            );
            return Ok(());
        };
        if post.parent_id.is_some() {
            // Replies are never cross-posted (a task for one is not queued; this is a guard).
            return Ok(());
        }
        if !wanted {
            // The author switched cross-posting off after publishing.
            tracing::info!(
                post = id,
                "mastodon-crosspost: the author opted out; not sent"
            );
            return Ok(());
        }
        let url = format!("{}{}", self.site_url, thread_view::permalink(&post));
        let text = status::status_text(post.title.as_deref(), &post.body_md, &url);
        self.post_status(&text, ctx.job_id, id).await
    }

    async fn post_status(&self, text: &str, job: i32, post: i32) -> Result<(), String> {
        let resp = self
            .client
            .post(self.account.endpoint.clone())
            .bearer_auth(self.account.token())
            // Mastodon keeps the status it made for a key (an hour): a retry after a lost
            // answer does not post twice. The site's host keeps two sites (staging and
            // production) posting to one account from colliding.
            .header(
                "Idempotency-Key",
                idempotency_key(&self.site_url, post, job),
            )
            .form(&[
                ("status", text),
                ("visibility", self.account.visibility.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("Mastodon did not answer: {e}"))?;
        let code = resp.status();
        if code.is_success() {
            let posted: Posted = resp.json().await.unwrap_or_default();
            tracing::info!(
                post,
                job,
                status_id = posted.id.as_deref().unwrap_or("?"),
                status_url = posted.url.as_deref().unwrap_or("?"),
                "mastodon-crosspost: posted"
            );
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(format!("Mastodon answered {code}{}", reason(&body)))
    }
}

/// `posthaste-{site host}-{post}-{job}`, stable across the tries of one job.
fn idempotency_key(site_url: &str, post: i32, job: i32) -> String {
    let host: String = site_url
        .split("://")
        .nth(1)
        .unwrap_or(site_url)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        .collect();
    format!("posthaste-{host}-{post}-{job}")
}

/// Mastodon's `{"error": "…"}`, or the start of whatever else came back, on one short line.
fn reason(body: &str) -> String {
    let said = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string());
    let line: String = said
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

#[cfg(test)]
mod tests {
    use super::{idempotency_key, reason};

    #[test]
    fn idempotency_keys_name_the_site_post_and_job() {
        assert_eq!(
            idempotency_key("https://team.example.com", 12, 345),
            "posthaste-team.example.com-12-345"
        );
        assert_eq!(
            idempotency_key("http://127.0.0.1:8080", 1, 2),
            "posthaste-127.0.0.1:8080-1-2"
        );
    }

    #[test]
    fn failure_reasons_are_short_and_on_one_line() {
        assert_eq!(
            reason(r#"{"error":"Validation failed: Text too long"}"#),
            ": Validation failed: Text too long"
        );
        assert_eq!(
            reason("<html>\n  Bad\n gateway</html>"),
            ": <html> Bad gateway</html>"
        );
        assert_eq!(reason(""), "");
        assert_eq!(reason(&"x".repeat(1000)).chars().count(), 202);
    }
}
