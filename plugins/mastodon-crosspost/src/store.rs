//! Who opted in: one row in `mastodon_authors` per member whose new posts are cross-posted.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use posthaste::db::{self, DbConn};

diesel::table! {
    /// Members who want their new top-level posts cross-posted.
    mastodon_authors (user_id) {
        /// The member.
        user_id -> Integer,
        /// Since when.
        created_at -> Timestamp,
    }
}

/// Whether `user` wants their new posts cross-posted.
pub fn opted_in(conn: &mut DbConn, user: i32) -> QueryResult<bool> {
    let n: i64 = mastodon_authors::table
        .filter(mastodon_authors::user_id.eq(user))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Switches cross-posting on or off for `user` (doing it twice changes nothing).
pub fn set(conn: &mut DbConn, user: i32, on: bool) -> QueryResult<()> {
    if !on {
        diesel::delete(mastodon_authors::table.filter(mastodon_authors::user_id.eq(user)))
            .execute(conn)?;
        return Ok(());
    }
    if opted_in(conn, user)? {
        return Ok(());
    }
    let inserted = diesel::insert_into(mastodon_authors::table)
        .values((
            mastodon_authors::user_id.eq(user),
            mastodon_authors::created_at.eq(db::now()),
        ))
        .execute(conn);
    match inserted {
        // Another request switched it on at the same moment: on is on.
        Ok(_) | Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e),
    }
}
