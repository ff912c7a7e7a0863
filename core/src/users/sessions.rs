//! A server-side session store for actix-session, kept in the `sessions` table so that
//! sign-out, a password change or a disabled account ends sessions at once on every node.
//!
//! The cookie holds a random key; the table holds only its SHA-256, so a copy of the
//! database does not hand out live cookies.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use actix_web::web;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

use crate::db::schema::sessions as s;
use crate::db::{self, DbPool};

/// The session-state key holding the signed-in member's id.
pub const USER_ID_KEY: &str = "user_id";

type State = HashMap<String, String>;

/// actix-session storage backed by the database.
#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
}

impl DbSessionStore {
    /// A store over the app's pool.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

fn storage_id(key: &SessionKey) -> String {
    hex::encode(Sha256::digest(key.as_ref().as_bytes()))
}

fn user_of(state: &State) -> Option<i32> {
    state
        .get(USER_ID_KEY)
        .and_then(|v| serde_json::from_str::<i32>(v).ok())
}

fn expiry(ttl: &Duration) -> NaiveDateTime {
    db::now() + chrono::Duration::seconds(ttl.whole_seconds().max(0))
}

async fn blocking<T, F>(pool: &DbPool, f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut db::DbConn) -> QueryResult<T> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || -> anyhow::Result<T> {
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        let id = storage_id(session_key);
        // Expiry is checked here rather than in SQL: a changing time bound in the WHERE
        // clause would make SQLite re-plan this hottest statement on every request.
        let row: Option<(String, NaiveDateTime)> = blocking(&self.pool, move |c| {
            s::table
                .find(id)
                .select((s::state, s::expires_at))
                .get_result(c)
                .optional()
        })
        .await
        .map_err(LoadError::Other)?;
        match row {
            Some((_, expires)) if expires <= db::now() => Ok(None),
            None => Ok(None),
            Some((json, _)) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key: SessionKey = Alphanumeric
            .sample_string(&mut rand::rng(), 64)
            .try_into()
            .map_err(|e| SaveError::Other(anyhow::anyhow!("{e}")))?;
        let id = storage_id(&key);
        let user = user_of(&state);
        let expires = expiry(ttl);
        blocking(&self.pool, move |c| {
            diesel::insert_into(s::table)
                .values((
                    s::id.eq(id),
                    s::user_id.eq(user),
                    s::state.eq(json),
                    s::expires_at.eq(expires),
                ))
                .execute(c)?;
            // Expired sessions are swept here, now and then, rather than by a timer.
            if rand::random::<u8>() < 4 {
                diesel::delete(s::table.filter(s::expires_at.lt(db::now()))).execute(c)?;
            }
            Ok(())
        })
        .await
        .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let json =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let id = storage_id(&session_key);
        let user = user_of(&state);
        let expires = expiry(ttl);
        let updated = blocking(&self.pool, move |c| {
            diesel::update(s::table.find(id).filter(s::expires_at.gt(db::now())))
                .set((
                    s::user_id.eq(user),
                    s::state.eq(json),
                    s::expires_at.eq(expires),
                ))
                .execute(c)
        })
        .await
        .map_err(UpdateError::Other)?;
        if updated == 0 {
            // The session was revoked or expired meanwhile: never resurrect it under the old
            // key; start a fresh one (without the sign-in, which was revoked).
            let mut fresh = state;
            fresh.remove(USER_ID_KEY);
            return self.save(fresh, ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            });
        }
        Ok(session_key)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let id = storage_id(session_key);
        let expires = expiry(ttl);
        blocking(&self.pool, move |c| {
            diesel::update(s::table.find(id))
                .set(s::expires_at.eq(expires))
                .execute(c)
        })
        .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let id = storage_id(session_key);
        blocking(&self.pool, move |c| {
            diesel::delete(s::table.find(id)).execute(c)
        })
        .await?;
        Ok(())
    }
}
