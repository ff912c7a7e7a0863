//! The worker: claims jobs, runs them, records the outcome. One runs inside every server
//! process (unless `POSTHASTE_WORKER=false`); `posthaste worker` runs one alone.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use tokio::sync::watch;

use super::{Job, JobRow};
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::hooks::{Hooks, JobCtx};
use crate::mail::{self, Draft, Mailer};
use crate::posts::{self, PostId};
use crate::render::Renderer;
use crate::users::{self, tokens, Notice, UserId};

/// Jobs claimed at a time.
const BATCH: u32 = 10;

/// A worker and what it needs.
pub struct Worker {
    pool: DbPool,
    config: Arc<Config>,
    renderer: Arc<Renderer>,
    hooks: Arc<Hooks>,
    mailer: Mailer,
    id: String,
}

async fn db<T, F>(pool: &DbPool, f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut c = pool.get().map_err(|e| e.to_string())?;
        f(&mut c).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

impl Worker {
    /// A worker with a unique name (host, process, random) for its claims.
    pub fn new(
        pool: DbPool,
        config: Arc<Config>,
        renderer: Arc<Renderer>,
        hooks: Arc<Hooks>,
    ) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(&config)?;
        let host = hostname();
        let id = format!(
            "{host}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        Ok(Self {
            pool,
            config,
            renderer,
            hooks,
            mailer,
            id,
        })
    }

    /// Runs until `stop` turns true, then finishes the job in hand.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "job worker started");
        let poll = Duration::from_millis(self.config.worker_poll_ms);
        let mut rounds: u64 = 0;
        loop {
            if *stop.borrow() {
                break;
            }
            let me = self.id.clone();
            let claimed = db(&self.pool, move |c| super::claim(c, &me, BATCH)).await;
            let worked = match claimed {
                Ok(rows) => {
                    let n = rows.len();
                    for row in rows {
                        self.handle(row).await;
                    }
                    n > 0
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "cannot claim jobs (database unavailable?)");
                    false
                }
            };
            rounds += 1;
            if rounds.is_multiple_of(3600) {
                let _ = db(&self.pool, super::prune).await;
            }
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.id, "job worker stopped");
    }

    async fn handle(&self, row: JobRow) {
        let started = std::time::Instant::now();
        let outcome = match row.job::<Job>() {
            Ok(job) => self.perform(job, &row).await,
            Err(e) => Err(format!("unreadable job: {e}")),
        };
        let (id, me) = (row.id, self.id.clone());
        let ms = started.elapsed().as_millis();
        match outcome {
            Ok(()) => {
                if let Err(e) = db(&self.pool, move |c| super::done(c, id, &me)).await {
                    tracing::error!(job = id, error = %e, "job ran but could not be marked done");
                } else {
                    tracing::info!(job = id, kind = %row.kind, attempt = row.attempts, ms, "job done");
                }
            }
            Err(err) => {
                let base = self.config.retry_base_secs;
                let r = row.clone();
                let msg = err.clone();
                match db(&self.pool, move |c| {
                    super::retry_or_fail(c, &r, &me, &msg, base)
                })
                .await
                {
                    Ok(state) => {
                        tracing::warn!(job = id, kind = %row.kind, attempt = row.attempts, state, error = %err, "job failed")
                    }
                    Err(e) => {
                        tracing::error!(job = id, error = %e, "job failed and could not be rescheduled")
                    }
                }
            }
        }
    }

    async fn perform(&self, job: Job, row: &JobRow) -> Result<(), String> {
        let (post, user, notice) = match job {
            Job::MentionMail { post, user } => (post, user, Notice::Mention),
            Job::ReplyMail { post, user, notice } => (post, user, notice),
            Job::ResetMail { user } => return self.reset_mail(user).await,
            Job::InviteMail { email, by } => return self.invite_mail(email, by).await,
            Job::Action { event } => {
                let hooks = self.hooks.clone();
                return db(&self.pool, move |c| hooks.dispatch(c, &event)).await;
            }
            Job::Plugin { plugin, task } => {
                let ctx = JobCtx {
                    task,
                    job_id: row.id,
                    attempt: row.attempts,
                    pool: self.pool.clone(),
                };
                return self.hooks.run_job(&plugin, ctx).await;
            }
        };
        let found = db(&self.pool, move |c| {
            let p = posts::find_visible(c, PostId(post))?;
            let u = users::find(c, UserId(user))?;
            Ok((p, u))
        })
        .await?;
        let (Some((post, author)), Some(to)) = found else {
            // Deleted since: nothing to tell.
            return Ok(());
        };
        // Preferences are read when sending, so turning a kind off also stops queued mail.
        if !to.wants(notice) {
            return Ok(());
        }
        let msg = mail::notification(&self.config, &self.renderer, notice, &post, &author, &to)
            .map_err(|e| e.to_string())?;
        self.send(msg).await
    }
}

impl Worker {
    /// Passes a mail through the `outgoing_mail` filters and sends it (a `Reject` drops it).
    async fn send(&self, mut draft: Draft) -> Result<(), String> {
        draft.mail = match self.hooks.outgoing_mail.apply(draft.mail) {
            Ok(m) => m,
            Err(why) => {
                tracing::info!(reason = %why, "a plugin stopped this mail");
                return Ok(());
            }
        };
        let msg = mail::build(&self.config, draft).map_err(|e| e.to_string())?;
        self.mailer.send(msg).await
    }

    /// Makes a reset token now (so no usable token is ever stored) and mails the link.
    async fn reset_mail(&self, user: i32) -> Result<(), String> {
        let found = db(&self.pool, move |c| {
            let Some(u) = users::find(c, UserId(user))? else {
                return Ok(None);
            };
            let token = tokens::issue(c, tokens::Purpose::Reset, Some(u.id), &u.email, None)?;
            Ok(Some((u, token)))
        })
        .await?;
        let Some((to, token)) = found else {
            return Ok(());
        };
        let msg = mail::password_reset(&self.config, &self.renderer, &to, &token)
            .map_err(|e| e.to_string())?;
        self.send(msg).await
    }

    /// Makes an invitation token now and mails the link.
    async fn invite_mail(&self, email: String, by: i32) -> Result<(), String> {
        let found = db(&self.pool, move |c| {
            let inviter = users::find(c, UserId(by))?;
            let token = tokens::issue(c, tokens::Purpose::Invite, None, &email, Some(by))?;
            Ok((inviter, email, token))
        })
        .await?;
        let (inviter, email, token) = found;
        let name = inviter.map_or_else(|| self.config.site_title.clone(), |u| u.display_name);
        let msg = mail::invitation(&self.config, &self.renderer, &email, &name, &token)
            .map_err(|e| e.to_string())?;
        self.send(msg).await
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "posthaste".into())
}
