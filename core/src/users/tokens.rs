//! Single-use tokens sent by mail: password reset (1 hour) and invitations (7 days).
//!
//! A token is 32 random bytes (base64url) made by the worker when it sends the mail; only its
//! SHA-256 is stored, so the database never holds a usable token. Using a token marks it used
//! in the same transaction as the change it authorizes.

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::tokens;
use crate::db::{self, DbConn};

/// Password reset tokens last an hour.
pub const RESET_TTL: Duration = Duration::hours(1);
/// Invitations last a week.
pub const INVITE_TTL: Duration = Duration::days(7);

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password for `user_id`.
    Reset,
    /// Create an account for `email`.
    Invite,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invite => "invite",
        }
    }
}

/// A stored token that is still usable.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct Token {
    /// Row id.
    pub id: i32,
    /// For a reset: whose password.
    pub user_id: Option<i32>,
    /// For an invite: who is invited.
    pub email: String,
    /// Who made it (the inviting admin).
    pub created_by: Option<i32>,
    /// Until when it works.
    pub expires_at: NaiveDateTime,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes a new token and stores its hash; returns the token for the mail. For resets, the
/// member's earlier unused reset tokens stop working.
pub fn issue(
    conn: &mut DbConn,
    purpose: Purpose,
    user_id: Option<i32>,
    email: &str,
    created_by: Option<i32>,
) -> QueryResult<String> {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = db::now();
    let ttl = match purpose {
        Purpose::Reset => RESET_TTL,
        Purpose::Invite => INVITE_TTL,
    };
    conn.transaction(|conn| {
        if let (Purpose::Reset, Some(u)) = (purpose, user_id) {
            diesel::update(
                tokens::table
                    .filter(tokens::user_id.eq(u))
                    .filter(tokens::kind.eq("reset"))
                    .filter(tokens::used_at.is_null()),
            )
            .set(tokens::used_at.eq(Some(now)))
            .execute(conn)?;
        }
        diesel::insert_into(tokens::table)
            .values((
                tokens::kind.eq(purpose.as_str()),
                tokens::token_hash.eq(hash(&token)),
                tokens::user_id.eq(user_id),
                tokens::email.eq(email),
                tokens::created_by.eq(created_by),
                tokens::expires_at.eq(now + ttl),
                tokens::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(token)
    })
}

/// The unused, unexpired token for `purpose`, if `token` is one.
pub fn find(conn: &mut DbConn, purpose: Purpose, token: &str) -> QueryResult<Option<Token>> {
    tokens::table
        .filter(tokens::token_hash.eq(hash(token)))
        .filter(tokens::kind.eq(purpose.as_str()))
        .filter(tokens::used_at.is_null())
        .filter(tokens::expires_at.gt(db::now()))
        .select(Token::as_select())
        .get_result(conn)
        .optional()
}

/// Uses a token: marks it used (the write comes first, so SQLite takes its lock before
/// reading) and returns it, or None if it is unknown, used or expired. Call inside the
/// transaction of the change it authorizes.
pub fn redeem(conn: &mut DbConn, purpose: Purpose, token: &str) -> QueryResult<Option<Token>> {
    let now = db::now();
    let h = hash(token);
    let n = diesel::update(
        tokens::table
            .filter(tokens::token_hash.eq(&h))
            .filter(tokens::kind.eq(purpose.as_str()))
            .filter(tokens::used_at.is_null())
            .filter(tokens::expires_at.gt(now)),
    )
    .set(tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    tokens::table
        .filter(tokens::token_hash.eq(&h))
        .select(Token::as_select())
        .get_result(conn)
        .optional()
}
