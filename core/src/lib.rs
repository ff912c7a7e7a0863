//! Posthaste: a self-hosted team microblog in the spirit of P2.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library; integration tests drive the
//! same `startup::Application` over HTTP. See `docs/architecture.md` for the map.

pub mod config;
pub mod db;
pub mod error;
pub mod hooks;
pub mod jobs;
pub mod mail;
pub mod mentions;
pub mod posts;
pub mod render;
pub mod seed;
pub mod startup;
pub mod users;
pub mod web;
