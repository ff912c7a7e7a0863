//! Members: accounts, validated input, passwords, sign-in throttling and sessions.

pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{sessions as sessions_t, users};
use crate::db::{self, DbConn, LiteralLimitDsl};
use crate::error::{AppError, AppResult};
use crate::hooks::{ActionEvent, Hooks};

/// A member's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct UserId(pub i32);

/// What a member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including administration.
    Admin,
    /// Post, reply, edit own.
    Member,
    /// Read only.
    Guest,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }
    fn from_db(s: &str) -> Self {
        match s {
            "admin" => Role::Admin,
            "member" => Role::Member,
            _ => Role::Guest,
        }
    }
}

/// A stored member.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Row id.
    pub id: i32,
    /// Lowercase login name, `[a-z0-9_]{2,30}`.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Name shown on posts.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role name.
    pub role: String,
    /// When the account was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Email when mentioned.
    pub notify_mention: bool,
    /// Email when someone replies to my post.
    pub notify_reply_post: bool,
    /// Email when someone replies to my reply.
    pub notify_reply_reply: bool,
}

/// The kinds of notification email, each with its own preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Someone mentioned me.
    Mention,
    /// Someone replied to my post.
    ReplyPost,
    /// Someone replied to my reply.
    ReplyReply,
}

impl Notice {
    /// All kinds.
    pub const ALL: [Notice; 3] = [Notice::Mention, Notice::ReplyPost, Notice::ReplyReply];

    /// The name in URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Mention => "mention",
            Notice::ReplyPost => "reply_post",
            Notice::ReplyReply => "reply_reply",
        }
    }

    /// Parses [`Notice::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s)
    }

    /// What it is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Notice::Mention => "someone mentions you",
            Notice::ReplyPost => "someone replies to your post",
            Notice::ReplyReply => "someone replies to your reply",
        }
    }
}

impl User {
    /// Whether this member wants email of this kind.
    pub fn wants(&self, n: Notice) -> bool {
        match n {
            Notice::Mention => self.notify_mention,
            Notice::ReplyPost => self.notify_reply_post,
            Notice::ReplyReply => self.notify_reply_reply,
        }
    }

    /// Typed id.
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }
    /// Typed role.
    pub fn role(&self) -> Role {
        Role::from_db(&self.role)
    }
    /// Whether the member may post and reply.
    pub fn can_post(&self) -> bool {
        matches!(self.role(), Role::Admin | Role::Member)
    }
}

/// The public face of a member: what is shown next to their posts (no secrets).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Profile {
    /// Row id.
    pub id: i32,
    /// Login name.
    pub username: String,
    /// Email (for Gravatar).
    pub email: String,
    /// Name shown on posts.
    pub display_name: String,
    /// Role name.
    pub role: String,
}

impl Profile {
    /// Typed role.
    pub fn role(&self) -> Role {
        Role::from_db(&self.role)
    }
}

impl User {
    /// The member's public profile.
    pub fn profile(&self) -> Profile {
        Profile {
            id: self.id,
            username: self.username.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    username: &'a str,
    email: &'a str,
    display_name: &'a str,
    password_hash: &'a str,
    role: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A login name: `[a-z0-9_]{2,30}`, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses and lowercases a username.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        if !(2..=30).contains(&s.len()) {
            return Err("Username must be 2 to 30 characters.".into());
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err("Username may only use letters a–z, digits and _.".into());
        }
        if matches!(s.as_str(), "all" | "team" | "admin_all") {
            return Err(format!("“{s}” is reserved; please pick another username."));
        }
        Ok(Self(s))
    }
    /// The lowercase name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address (checked for shape only; the invite/reset mail proves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses a plausible address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let ok = s.len() <= 254
            && !s.contains(char::is_whitespace)
            && !s.contains(['<', '>', ',', ';', '"'])
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("Please enter a valid email address, like ana@example.com.".into())
        }
    }
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown on posts: 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 100 {
            return Err("Display name must be 1 to 100 characters.".into());
        }
        if s.chars().any(char::is_control) {
            return Err("Display name cannot contain control characters.".into());
        }
        Ok(Self(s.to_string()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8–1024 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Parses a new password.
    pub fn parse(s: &str) -> Result<Self, String> {
        let n = s.chars().count();
        if n < 8 {
            return Err("Password must be at least 8 characters.".into());
        }
        if n > 1024 {
            return Err("Password must be at most 1024 characters.".into());
        }
        Ok(Self(s.to_string()))
    }
    /// Parses a new password typed twice; lists every problem (too short, not the same).
    pub fn parse_confirmed(password: &str, confirm: &str) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let parsed = Self::parse(password).map_err(|e| problems.push(e)).ok();
        if password != confirm {
            problems.push("The two passwords do not match.".into());
        }
        match parsed {
            Some(p) if problems.is_empty() => Ok(p),
            _ => Err(problems),
        }
    }

    /// The secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Everything needed to create an account, already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: Username,
    /// Email.
    pub email: Email,
    /// Shown name.
    pub display_name: DisplayName,
    /// Role.
    pub role: Role,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// Username taken.
    #[error("That username is already taken.")]
    UsernameTaken,
    /// Email taken.
    #[error("An account with that email address already exists.")]
    EmailTaken,
    /// The first-run setup was already completed by someone else.
    #[error("Setup is already complete: sign in instead.")]
    SetupDone,
    /// Storage failure.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Counts members (0 means the site still needs its first-run setup).
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Creates an account with an already computed password hash. With `only_if_first`, refuses
/// when any account exists (the setup page), checked inside the same transaction. Queues the
/// `user_registered` actions.
pub fn create(
    conn: &mut DbConn,
    hooks: &Hooks,
    new: &NewUser,
    password_hash: &str,
    only_if_first: bool,
) -> Result<User, CreateUserError> {
    conn.transaction(|conn| {
        let now = db::now();
        let res = diesel::insert_into(users::table)
            .values(NewUserRow {
                username: new.username.as_str(),
                email: new.email.as_str(),
                display_name: new.display_name.as_str(),
                password_hash,
                role: new.role.as_str(),
                created_at: now,
                updated_at: now,
            })
            .execute(conn);
        match res {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => {
                let m = format!("{} {:?}", info.message(), info.constraint_name());
                return Err(if m.contains("email") {
                    CreateUserError::EmailTaken
                } else {
                    CreateUserError::UsernameTaken
                });
            }
            Err(e) => return Err(e.into()),
        }
        let id = db::last_insert_id(conn)?;
        // The insert came first so SQLite takes its write lock before this read.
        if only_if_first && count(conn)? > 1 {
            return Err(CreateUserError::SetupDone);
        }
        hooks.queue(conn, vec![ActionEvent::UserRegistered { user: id }])?;
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)?)
    })
}

/// Finds a member by id.
pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    // `get_result`, not `first`: no bound LIMIT, so SQLite keeps the statement prepared.
    users::table
        .find(id.0)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Finds a member by username or email (case-insensitive on both backends).
pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
    let login = login.trim();
    if login.contains('@') {
        users::table
            .filter(users::email.eq(login))
            .select(User::as_select())
            .first(conn)
            .optional()
    } else {
        users::table
            .filter(users::username.eq(login.to_ascii_lowercase()))
            .select(User::as_select())
            .first(conn)
            .optional()
    }
}

/// Members whose username or display name starts with `prefix` (case-insensitive), by
/// username, for autocomplete. `%` and `_` in the prefix match themselves (escaped with `!`,
/// which means the same in SQLite and MySQL string literals, unlike a backslash).
pub fn search_prefix(conn: &mut DbConn, prefix: &str, limit: u32) -> QueryResult<Vec<Profile>> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '!' => vec!['!', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("{escaped}%");
    let words = format!("% {escaped}%");
    users::table
        .filter(
            users::username
                .like(pattern.to_lowercase())
                .escape('!')
                .or(users::display_name.like(&pattern).escape('!'))
                .or(users::display_name.like(&words).escape('!')),
        )
        .order(users::username.asc())
        .select(Profile::as_select())
        .literal_limit(limit)
        .load(conn)
}

/// Turns one kind of notification email on or off for a member.
pub fn set_notice(conn: &mut DbConn, id: UserId, n: Notice, on: bool) -> QueryResult<usize> {
    let now = db::now();
    let target = users::table.find(id.0);
    match n {
        Notice::Mention => diesel::update(target)
            .set((users::notify_mention.eq(on), users::updated_at.eq(now)))
            .execute(conn),
        Notice::ReplyPost => diesel::update(target)
            .set((users::notify_reply_post.eq(on), users::updated_at.eq(now)))
            .execute(conn),
        Notice::ReplyReply => diesel::update(target)
            .set((users::notify_reply_reply.eq(on), users::updated_at.eq(now)))
            .execute(conn),
    }
}

/// Sets several notification preferences at once (the settings page).
pub fn set_notices(conn: &mut DbConn, id: UserId, wanted: &[(Notice, bool)]) -> QueryResult<()> {
    conn.transaction(|conn| {
        for &(n, on) in wanted {
            set_notice(conn, id, n, on)?;
        }
        Ok(())
    })
}

/// Asks for a password reset mail to `email`. Says nothing about whether the address has an
/// account (the page shows the same answer either way).
pub fn request_reset(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    let Some(u) =
        find_by_login(conn, email.trim())?.filter(|u| u.email.eq_ignore_ascii_case(email.trim()))
    else {
        return Ok(());
    };
    let job = crate::jobs::Job::ResetMail { user: u.id };
    let since = db::now() - chrono::Duration::minutes(RESET_EVERY_MINUTES);
    if crate::jobs::enqueued_since(conn, &job, since)? {
        tracing::info!(
            user = u.id,
            "password reset mail sent recently; not sending another"
        );
        return Ok(());
    }
    crate::jobs::enqueue(conn, &[job])
}

/// At most one reset mail per member per this many minutes, so nobody can flood an inbox.
pub const RESET_EVERY_MINUTES: i64 = 5;

/// Sets a new password with a reset token (single use, 1 hour) and ends every session of the
/// member. None if the token is unknown, used or expired.
pub fn reset_password(conn: &mut DbConn, token: &str, hash: &str) -> AppResult<Option<User>> {
    conn.transaction(|conn| {
        let Some(t) = tokens::redeem(conn, tokens::Purpose::Reset, token)? else {
            return Ok(None);
        };
        let Some(id) = t.user_id else { return Ok(None) };
        set_password_hash(conn, UserId(id), hash)?;
        Ok(find(conn, UserId(id))?)
    })
}

/// Invites `email` (admins only); refused if it already has an account.
pub fn invite(conn: &mut DbConn, admin: &User, email: &Email) -> AppResult<()> {
    if admin.role() != Role::Admin {
        return Err(AppError::Forbidden("Only admins can invite people.".into()));
    }
    if find_by_login(conn, email.as_str())?.is_some() {
        return Err(AppError::BadRequest(format!(
            "{} already has an account.",
            email.as_str()
        )));
    }
    crate::jobs::enqueue(
        conn,
        &[crate::jobs::Job::InviteMail {
            email: email.as_str().to_string(),
            by: admin.id,
        }],
    )?;
    Ok(())
}

/// Why accepting an invitation failed.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Unknown, used or expired.
    #[error("This invitation has expired or was already used. Ask an admin for a new one.")]
    Invalid,
    /// Account creation refused (name taken, …).
    #[error(transparent)]
    Create(#[from] CreateUserError),
}

impl From<diesel::result::Error> for InviteError {
    fn from(e: diesel::result::Error) -> Self {
        InviteError::Create(CreateUserError::Db(e))
    }
}

/// Creates the invited member's account (email from the invitation) and uses up the token.
pub fn accept_invite(
    conn: &mut DbConn,
    hooks: &Hooks,
    token: &str,
    username: Username,
    display_name: DisplayName,
    hash: &str,
) -> Result<User, InviteError> {
    conn.transaction(|conn| {
        let t =
            tokens::redeem(conn, tokens::Purpose::Invite, token)?.ok_or(InviteError::Invalid)?;
        let email = Email::parse(&t.email).map_err(|_| InviteError::Invalid)?;
        let new = NewUser {
            username,
            email,
            display_name,
            role: Role::Member,
        };
        Ok(create(conn, hooks, &new, hash, false)?)
    })
}

/// The email an invitation token is for, if it is still usable.
pub fn invitation(conn: &mut DbConn, token: &str) -> QueryResult<Option<String>> {
    Ok(tokens::find(conn, tokens::Purpose::Invite, token)?.map(|t| t.email))
}

/// Replaces a member's password hash and ends every session they have, on every node.
pub fn set_password_hash(conn: &mut DbConn, id: UserId, hash: &str) -> AppResult<()> {
    conn.transaction(|conn| {
        let n = diesel::update(users::table.find(id.0))
            .set((
                users::password_hash.eq(hash),
                users::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        diesel::delete(sessions_t::table.filter(sessions_t::user_id.eq(id.0))).execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Ana_1 ").unwrap().as_str(), "ana_1");
        assert!(Username::parse("a").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("ana-b").is_err());
        assert!(Username::parse("anä").is_err());
        assert!(Username::parse("all").is_err());
    }

    #[test]
    fn emails_and_names_and_passwords() {
        assert!(Email::parse("ana@example.com").is_ok());
        assert!(Email::parse("ana@localhost").is_err());
        assert!(Email::parse("a b@example.com").is_err());
        assert!(Email::parse("<x>@example.com").is_err());
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("Ana 🚀").is_ok());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough").is_ok());
        assert!(Password::parse_confirmed("long enough", "long enough").is_ok());
        assert_eq!(
            Password::parse_confirmed("short", "other")
                .unwrap_err()
                .len(),
            2
        );
        assert_eq!(
            Password::parse_confirmed("long enough", "long enougH")
                .unwrap_err()
                .len(),
            1
        );
        assert_eq!(
            format!("{:?}", Password::parse("secret123").unwrap()),
            "Password(***)"
        );
    }
}
