//! Outgoing mail: the transport from configuration (SMTP via lettre, or `.eml` files in the
//! data folder when no SMTP server is configured) and the notification messages.
//!
//! Addresses, names and subjects go through lettre's types (`Mailbox`, the builder's
//! `subject`), never string concatenation, so no input can inject a header.

use std::path::PathBuf;
use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use sha2::Sha256;

use crate::config::Config;
use crate::hooks::OutgoingMail;
use crate::posts::{title, Post};
use crate::render::Renderer;
use crate::users::{Notice, Profile, User};

/// Where mail goes.
pub enum Mailer {
    /// An SMTP server (`POSTHASTE_SMTP_URL`).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder (the embedded default).
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl Mailer {
    /// The transport the configuration names.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        anyhow::anyhow!("POSTHASTE_SMTP_URL is not a valid SMTP URL: {e}")
                    })?
                    .timeout(Some(Duration::from_secs(config.smtp_timeout_secs)))
                    .build();
                Ok(Self::Smtp(t))
            }
            None => {
                let dir = config.data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the mail folder {}: {e}", dir.display())
                })?;
                Ok(Self::Files(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    /// Sends one message; the error says why (for the job's retry record).
    pub async fn send(&self, msg: Message) -> Result<(), String> {
        match self {
            Self::Smtp(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}")),
            Self::Files(t, dir) => {
                let id = t.send(msg).await.map_err(|e| format!("mail file: {e}"))?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "mail written (no SMTP server configured)");
                Ok(())
            }
        }
    }
}

#[derive(Serialize)]
struct NoticeCtx<'a> {
    site_title: &'a str,
    author_name: &'a str,
    recipient_name: &'a str,
    action: &'a str,
    excerpt: String,
    body_html: &'a str,
    link: String,
    unsubscribe_url: &'a str,
    unsubscribe_what: &'a str,
    settings_url: String,
}

/// The site's base URL for links in mail.
pub fn base_url(config: &Config) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.addr))
}

fn unsubscribe_mac(config: &Config, user: i32, notice: Notice) -> Hmac<Sha256> {
    // The cookie key is 64 random bytes; HMAC takes any key length.
    let mut mac = Hmac::<Sha256>::new_from_slice(&config.cookie_key).expect("HMAC takes any key");
    mac.update(format!("unsubscribe:{user}:{}", notice.as_str()).as_bytes());
    mac
}

/// The one-click unsubscribe path for `user` and `notice`, signed so it works without signing
/// in and cannot be guessed for someone else.
pub fn unsubscribe_path(config: &Config, user: i32, notice: Notice) -> String {
    let sig = unsubscribe_mac(config, user, notice)
        .finalize()
        .into_bytes();
    format!(
        "/unsubscribe/{user}/{}/{}",
        notice.as_str(),
        hex::encode(&sig[..16])
    )
}

/// Whether `sig` (hex) is the signature [`unsubscribe_path`] makes for `user` and `notice`.
pub fn verify_unsubscribe(config: &Config, user: i32, notice: Notice, sig: &str) -> bool {
    match hex::decode(sig) {
        Ok(bytes) if bytes.len() == 16 => unsubscribe_mac(config, user, notice)
            .verify_truncated_left(&bytes)
            .is_ok(),
        _ => false,
    }
}

/// A notification mail to `to` about `post` (written by `author`): subject like
/// `[Site] Ana mentioned you: first words…`, a text and an HTML part, the excerpt, a link to
/// the exact post or reply, and one-click unsubscribe (`List-Unsubscribe` + `-Post`).
pub fn notification(
    config: &Config,
    renderer: &Renderer,
    notice: Notice,
    post: &Post,
    author: &Profile,
    to: &User,
) -> anyhow::Result<Draft> {
    let base = base_url(config);
    let link = format!("{base}{}", crate::web::thread_view::permalink(post));
    // Stored HTML links within the site are relative (mentions, permalinks); mail needs them whole.
    let body_html = post
        .body_html
        .replace("href=\"/", &format!("href=\"{base}/"));
    let (verb, action) = match notice {
        Notice::Mention if post.parent_id.is_some() => {
            ("mentioned you", "mentioned you in a reply")
        }
        Notice::Mention => ("mentioned you", "mentioned you in a post"),
        Notice::ReplyPost => ("replied to your post", "replied to your post"),
        Notice::ReplyReply => ("replied to your reply", "replied to your reply"),
    };
    let unsubscribe_url = format!("{base}{}", unsubscribe_path(config, to.id, notice));
    let ctx = NoticeCtx {
        site_title: &config.site_title,
        author_name: &author.display_name,
        recipient_name: &to.display_name,
        action,
        excerpt: title::excerpt(&post.body_md, 60),
        body_html: &body_html,
        link,
        unsubscribe_url: &unsubscribe_url,
        unsubscribe_what: notice.describe(),
        settings_url: format!("{base}/settings"),
    };
    let text = renderer.render_text("mail/notice.txt", &ctx)?;
    let html = renderer.render("mail/notice.html", &ctx)?;
    Ok(Draft {
        mail: OutgoingMail {
            kind: notice.as_str(),
            to: to.email.clone(),
            subject: format!(
                "[{}] {} {}: {}",
                config.site_title,
                author.display_name,
                verb,
                post.headline()
            ),
            text,
            html,
        },
        to_name: Some(to.display_name.clone()),
        // Replies to the notification go to the site address; the name says who wrote.
        from_name: Some(format!("{} via {}", author.display_name, config.site_title)),
        unsubscribe_url: Some(unsubscribe_url),
    })
}

/// A mail about to be sent: what the `outgoing_mail` filters see and may change, plus the
/// envelope they may not (sender, recipient's name, unsubscribe headers).
#[derive(Debug, Clone)]
pub struct Draft {
    /// Recipient address, subject and both parts.
    pub mail: OutgoingMail,
    /// The recipient's display name.
    pub to_name: Option<String>,
    /// The sender's display name (the address is always `mail_from`); when set, replies go
    /// to the site address.
    pub from_name: Option<String>,
    /// One-click unsubscribe URL (`List-Unsubscribe` + `List-Unsubscribe-Post`).
    pub unsubscribe_url: Option<String>,
}

/// Builds the MIME message of a draft.
pub fn build(config: &Config, draft: Draft) -> anyhow::Result<Message> {
    let from_addr: Mailbox = config
        .mail_from
        .parse()
        .map_err(|e| anyhow::anyhow!("POSTHASTE_MAIL_FROM: {e}"))?;
    let to = Mailbox::new(
        draft.to_name,
        draft
            .mail
            .to
            .parse()
            .map_err(|e| anyhow::anyhow!("recipient address: {e}"))?,
    );
    let mut b = Message::builder().to(to).subject(draft.mail.subject);
    b = match draft.from_name {
        Some(name) => b
            .from(Mailbox::new(Some(name), from_addr.email.clone()))
            .reply_to(from_addr),
        None => b.from(from_addr),
    };
    if let Some(url) = draft.unsubscribe_url {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    Ok(b.multipart(MultiPart::alternative_plain_html(
        draft.mail.text,
        draft.mail.html,
    ))?)
}

#[derive(Serialize)]
struct LinkCtx<'a> {
    site_title: &'a str,
    name: &'a str,
    link: String,
}

fn site_mail(
    renderer: &Renderer,
    kind: &'static str,
    to: &str,
    to_name: Option<String>,
    subject: String,
    template: &str,
    ctx: &LinkCtx<'_>,
) -> anyhow::Result<Draft> {
    Ok(Draft {
        mail: OutgoingMail {
            kind,
            to: to.to_string(),
            subject,
            text: renderer.render_text(&format!("mail/{template}.txt"), ctx)?,
            html: renderer.render(&format!("mail/{template}.html"), ctx)?,
        },
        to_name,
        from_name: None,
        unsubscribe_url: None,
    })
}

/// The password reset mail: a single-use link valid for an hour.
pub fn password_reset(
    config: &Config,
    renderer: &Renderer,
    to: &User,
    token: &str,
) -> anyhow::Result<Draft> {
    let ctx = LinkCtx {
        site_title: &config.site_title,
        name: &to.display_name,
        link: format!("{}/reset/{token}", base_url(config)),
    };
    site_mail(
        renderer,
        "reset",
        &to.email,
        Some(to.display_name.clone()),
        format!("[{}] Reset your password", config.site_title),
        "reset",
        &ctx,
    )
}

/// The invitation mail: a single-use link valid for a week.
pub fn invitation(
    config: &Config,
    renderer: &Renderer,
    email: &str,
    inviter: &str,
    token: &str,
) -> anyhow::Result<Draft> {
    let ctx = LinkCtx {
        site_title: &config.site_title,
        name: inviter,
        link: format!("{}/invite/{token}", base_url(config)),
    };
    site_mail(
        renderer,
        "invite",
        email,
        None,
        format!("[{}] {inviter} invited you to join", config.site_title),
        "invite",
        &ctx,
    )
}
