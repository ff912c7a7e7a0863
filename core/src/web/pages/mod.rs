//! Route handlers, one module per page or area.

pub mod account;
pub mod assets;
pub mod auth;
pub mod front;
pub mod health;
pub mod people;
pub mod settings;
pub mod thread;
