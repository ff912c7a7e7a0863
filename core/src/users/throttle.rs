//! Sign-in throttling, per account and per client IP, kept in the database so every app node
//! sees the same counts.

use chrono::Duration;
use diesel::prelude::*;

use crate::db::schema::login_failures as lf;
use crate::db::{self, DbConn};

/// Failed sign-ins within [`WINDOW_MINUTES`] after which an account is paused.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins within [`WINDOW_MINUTES`] after which a client IP is paused.
pub const MAX_PER_IP: i64 = 30;
/// The sliding window.
pub const WINDOW_MINUTES: i64 = 15;

/// Whether sign-in for this login from this IP is paused right now.
pub fn is_throttled(conn: &mut DbConn, login: &str, ip: &str) -> QueryResult<bool> {
    let since = db::now() - Duration::minutes(WINDOW_MINUTES);
    let login = normalize(login);
    let by_login: i64 = lf::table
        .filter(lf::login.eq(&login))
        .filter(lf::created_at.gt(since))
        .count()
        .get_result(conn)?;
    if by_login >= MAX_PER_ACCOUNT {
        return Ok(true);
    }
    let by_ip: i64 = lf::table
        .filter(lf::ip.eq(ip))
        .filter(lf::created_at.gt(since))
        .count()
        .get_result(conn)?;
    Ok(by_ip >= MAX_PER_IP)
}

/// Records a failed sign-in and forgets failures older than a day.
pub fn record_failure(conn: &mut DbConn, login: &str, ip: &str) -> QueryResult<()> {
    let now = db::now();
    diesel::insert_into(lf::table)
        .values((
            lf::login.eq(normalize(login)),
            lf::ip.eq(ip),
            lf::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::delete(lf::table.filter(lf::created_at.lt(now - Duration::days(1)))).execute(conn)?;
    Ok(())
}

/// Forgets an account's failures after a successful sign-in.
pub fn clear(conn: &mut DbConn, login: &str) -> QueryResult<()> {
    diesel::delete(lf::table.filter(lf::login.eq(normalize(login)))).execute(conn)?;
    Ok(())
}

fn normalize(login: &str) -> String {
    let mut s = login.trim().to_lowercase();
    s.truncate(s.char_indices().nth(255).map_or(s.len(), |(i, _)| i));
    s
}
