//! The one integration-test binary. Every test in `both_backends!` runs on SQLite and, when
//! `POSTHASTE_TEST_MYSQL_URL` names a server, on MySQL/MariaDB too (each test gets its own
//! database). `POSTHASTE_TEST_REQUIRE_MYSQL=1` (set by CI) turns a missing server into a
//! failure instead of a skip.

mod helpers;
mod receiver;
mod smtp;

mod accounts;
mod auth;
mod browser;
mod cli;
mod crosspost;
mod mail;
mod mentions;
mod plugins;
mod posts;
mod replies;
mod schema;
mod security;
mod tags;
mod theme;
mod webhooks;
