//! The durable job queue. A job is enqueued in the same transaction as the change that causes
//! it, so it exists exactly when the change does; workers (one per app process, or
//! `posthaste worker`) claim jobs with an atomic compare-and-set, run them, and retry failures
//! with exponential backoff until [`MAX_ATTEMPTS`], after which the job is `failed` and shown
//! to admins.
//!
//! Claiming is `UPDATE jobs SET state = 'running', locked_by = me … WHERE id = ? AND <still
//! claimable>`: of several workers (also on other nodes sharing one MySQL database) exactly one
//! sees one row updated. A worker that dies mid-job leaves it `running`; after [`LEASE`] it is
//! claimable again, so delivery is at least once, and exactly once unless a process dies between
//! sending and recording that it sent.

pub mod worker;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::db::schema::jobs;
use crate::db::{self, DbConn, LiteralLimitDsl};

/// Tries before a job is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claimed job may run before another worker may take it over.
pub const LEASE: Duration = Duration::minutes(5);

/// What a job does. Stored as JSON with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Tell `user` that `post` (a post or reply) mentions them.
    MentionMail {
        /// The post or reply.
        post: i32,
        /// The member mentioned.
        user: i32,
    },
    /// Tell `user` that reply `post` answers their post or reply (`notice` says which).
    ReplyMail {
        /// The new reply.
        post: i32,
        /// The member answered.
        user: i32,
        /// `ReplyPost` or `ReplyReply`.
        notice: crate::users::Notice,
    },
    /// Send `user` a password reset link (the token is made when sending).
    ResetMail {
        /// The member.
        user: i32,
    },
    /// Invite `email` to join, on behalf of admin `by` (the token is made when sending).
    InviteMail {
        /// The address invited.
        email: String,
        /// The inviting admin.
        by: i32,
    },
    /// Run the action hooks for something that happened (queued in its transaction).
    Action {
        /// What happened.
        event: crate::hooks::ActionEvent,
    },
    /// A plugin's own task, for the job runner it registered.
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// Whatever the plugin queued.
        task: serde_json::Value,
    },
}

impl Job {
    fn kind(&self) -> &'static str {
        match self {
            Job::MentionMail { .. } => "mention_mail",
            Job::ReplyMail { .. } => "reply_mail",
            Job::ResetMail { .. } => "reset_mail",
            Job::InviteMail { .. } => "invite_mail",
            Job::Action { .. } => "action",
            Job::Plugin { .. } => "plugin",
        }
    }
}

/// A job row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    /// Id.
    pub id: i32,
    /// Kind (for the admin list and logs).
    pub kind: String,
    /// JSON of the [`Job`].
    pub payload: String,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Tries so far.
    pub attempts: i32,
    /// Not before.
    pub run_at: NaiveDateTime,
    /// Claiming worker.
    pub locked_by: Option<String>,
    /// Claim time.
    pub locked_at: Option<NaiveDateTime>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

impl JobRow {
    /// The job itself.
    pub fn job<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload)
    }
}

/// Adds jobs to run as soon as a worker is free. Call inside the transaction of the change.
pub fn enqueue(conn: &mut DbConn, list: &[Job]) -> QueryResult<()> {
    let now = db::now();
    let rows: Vec<_> = list
        .iter()
        .map(|j| {
            (
                jobs::kind.eq(j.kind()),
                jobs::payload.eq(serde_json::to_string(j).unwrap_or_default()),
                jobs::state.eq("pending"),
                jobs::attempts.eq(0),
                jobs::run_at.eq(now),
                jobs::created_at.eq(now),
                jobs::updated_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        crate::with_backend!(&mut *conn, |c| diesel::insert_into(jobs::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Whether this exact job was enqueued after `since` (to rate-limit mails people can trigger).
pub fn enqueued_since(conn: &mut DbConn, job: &Job, since: NaiveDateTime) -> QueryResult<bool> {
    let payload = serde_json::to_string(job).unwrap_or_default();
    let n: i64 = jobs::table
        .filter(jobs::kind.eq(job.kind()))
        .filter(jobs::created_at.gt(since))
        .filter(jobs::payload.eq(payload))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Claims up to `n` runnable jobs for worker `me`.
pub fn claim(conn: &mut DbConn, me: &str, n: u32) -> QueryResult<Vec<JobRow>> {
    let now = db::now();
    let stale = now - LEASE;
    let runnable = jobs::state
        .eq("pending")
        .and(jobs::run_at.le(now))
        .or(jobs::state.eq("running").and(jobs::locked_at.lt(stale)));
    let candidates: Vec<i32> = jobs::table
        .filter(runnable)
        .order(jobs::run_at.asc())
        .select(jobs::id)
        .literal_limit(n)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in candidates {
        let won = diesel::update(jobs::table.find(id).filter(runnable))
            .set((
                jobs::state.eq("running"),
                jobs::locked_by.eq(me),
                jobs::locked_at.eq(now),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        if won == 1 {
            claimed.push(
                jobs::table
                    .find(id)
                    .select(JobRow::as_select())
                    .get_result(conn)?,
            );
        }
    }
    Ok(claimed)
}

/// Records success.
pub fn done(conn: &mut DbConn, id: i32, me: &str) -> QueryResult<()> {
    let now = db::now();
    diesel::update(jobs::table.find(id).filter(jobs::locked_by.eq(me)))
        .set((
            jobs::state.eq("done"),
            jobs::locked_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The wait before try `attempts + 1`: `base`, 2 × `base`, 4 × `base`, … capped at one hour.
pub fn backoff(attempts: i32, base_secs: u64) -> Duration {
    let base = i64::try_from(base_secs).unwrap_or(3600);
    let secs = base.saturating_mul(1i64 << attempts.clamp(1, 12).saturating_sub(1));
    Duration::seconds(secs.min(3600))
}

/// Records a failed try: back to `pending` after a backoff, or `failed` after the last try.
pub fn retry_or_fail(
    conn: &mut DbConn,
    row: &JobRow,
    me: &str,
    error: &str,
    base_secs: u64,
) -> QueryResult<&'static str> {
    let now = db::now();
    let state = if row.attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    // The column keeps 1000 characters; cut on a character boundary.
    let msg: String = error.chars().take(1000).collect();
    diesel::update(jobs::table.find(row.id).filter(jobs::locked_by.eq(me)))
        .set((
            jobs::state.eq(state),
            jobs::run_at.eq(now + backoff(row.attempts, base_secs)),
            jobs::locked_at.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(msg)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(state)
}

/// Jobs that gave up, newest first (the admin page).
pub fn failed(conn: &mut DbConn, limit: u32) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::state.eq("failed"))
        .order(jobs::id.desc())
        .select(JobRow::as_select())
        .literal_limit(limit)
        .load(conn)
}

/// Puts a failed job back in the queue for another round of tries (an admin's "Retry").
pub fn retry_failed(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    let now = db::now();
    let n = diesel::update(jobs::table.find(id).filter(jobs::state.eq("failed")))
        .set((
            jobs::state.eq("pending"),
            jobs::attempts.eq(0),
            jobs::run_at.eq(now),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Forgets finished jobs older than a week (called by the worker now and then).
pub fn prune(conn: &mut DbConn) -> QueryResult<usize> {
    let before = db::now() - Duration::days(7);
    diesel::delete(
        jobs::table
            .filter(jobs::state.eq("done"))
            .filter(jobs::updated_at.lt(before)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1, 10), Duration::seconds(10));
        assert_eq!(backoff(2, 10), Duration::seconds(20));
        assert_eq!(backoff(4, 10), Duration::seconds(80));
        assert_eq!(backoff(20, 10), Duration::seconds(3600));
        assert_eq!(backoff(3, 1), Duration::seconds(4));
    }

    #[test]
    fn jobs_round_trip_as_tagged_json() {
        let j = Job::MentionMail { post: 5, user: 7 };
        let s = serde_json::to_string(&j).unwrap();
        assert_eq!(s, r#"{"kind":"mention_mail","post":5,"user":7}"#);
        assert_eq!(serde_json::from_str::<Job>(&s).unwrap(), j);
    }
}
