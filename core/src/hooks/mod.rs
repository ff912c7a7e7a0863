//! Typed hooks with WordPress's semantics, the registry of hook points, and plugins.
//!
//! - A [`Filter<T>`] passes a value through every registered function in priority order; each
//!   returns the value for the next one. A filter may *reject* ([`HookError::Reject`]): the
//!   chain stops and the message reaches the person (for example "posts may not mention
//!   @everyone"). A filter that *fails* ([`HookError::Failed`]) or panics is logged with its
//!   plugin's name and skipped: the value from before that filter goes on.
//! - An [`Action<E>`] is notified that something happened: every registered function gets the
//!   event, in priority order, with a [`HookCtx`] (a database connection). Each function runs
//!   in its own transaction (a savepoint when the caller is inside one), so a function that
//!   fails or panics leaves no half-written rows and the others still run.
//! - Priorities: lower runs first; equal priorities run in registration order (WordPress's
//!   `add_filter($hook, $fn, $priority)`; the default is [`DEFAULT_PRIORITY`]).
//! - Registration happens at start ([`Registry`]); the application then shares the frozen
//!   [`Hooks`] behind an `Arc` and never changes them, so calling hooks takes no lock. Switching
//!   a plugin off flips one atomic flag its registrations check.
//!
//! `docs/plugins.md` lists the hook points, their payloads and where each runs.

pub mod content;
pub mod points;
pub mod registry;
pub mod switches;

pub use points::*;
pub use registry::{Hooks, JobCtx, JobFuture, Migrations, Plugin, PluginInfo, Registry, Routes};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::db::DbConn;
use crate::jobs::{self, Job};

/// WordPress's default priority.
pub const DEFAULT_PRIORITY: i32 = 10;

/// Why a hook function did not return a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// Refuse the whole operation, with a message for the person.
    #[error("{0}")]
    Reject(String),
    /// The function itself went wrong: logged, skipped.
    #[error("hook failed: {0}")]
    Failed(String),
}

impl From<diesel::result::Error> for HookError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(format!("database: {e}"))
    }
}

/// Who registered a hook function: core (always on) or a plugin, whose switch can turn all
/// of its registrations off at run time.
#[derive(Debug, Clone)]
pub struct Owner {
    name: &'static str,
    on: Option<Arc<AtomicBool>>,
}

impl Owner {
    /// The core, always on.
    pub fn core() -> Self {
        Self {
            name: "core",
            on: None,
        }
    }

    /// A plugin with its on/off switch.
    pub fn plugin(name: &'static str, on: Arc<AtomicBool>) -> Self {
        Self { name, on: Some(on) }
    }

    /// The plugin's name ("core" for the core).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether its registrations run now.
    pub fn is_on(&self) -> bool {
        self.on.as_ref().is_none_or(|f| f.load(Ordering::Relaxed))
    }
}

/// An always-on owner with this name (handy in tests).
impl From<&'static str> for Owner {
    fn from(name: &'static str) -> Self {
        Self { name, on: None }
    }
}

/// Identifies one registration, for [`Filter::remove`] / [`Action::remove`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookId(u64);

struct Entry<F: ?Sized> {
    id: u64,
    priority: i32,
    owner: Owner,
    f: Box<F>,
}

type FilterFn<T> = dyn Fn(T) -> Result<T, HookError> + Send + Sync;
type ActionFn<E> = dyn Fn(&mut HookCtx<'_>, &E) -> Result<(), HookError> + Send + Sync;

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// The registrations of one hook point, kept in (priority, registration) order.
struct Chain<F: ?Sized> {
    name: &'static str,
    entries: Vec<Entry<F>>,
    next_id: u64,
}

impl<F: ?Sized> Chain<F> {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            entries: Vec::new(),
            next_id: 0,
        }
    }

    fn add(&mut self, owner: Owner, priority: i32, f: Box<F>) -> HookId {
        self.next_id += 1;
        let at = self.entries.partition_point(|x| x.priority <= priority);
        self.entries.insert(
            at,
            Entry {
                id: self.next_id,
                priority,
                owner,
                f,
            },
        );
        HookId(self.next_id)
    }

    fn remove(&mut self, id: HookId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id.0);
        self.entries.len() != before
    }

    fn active(&self) -> impl Iterator<Item = &Entry<F>> {
        self.entries.iter().filter(|e| e.owner.is_on())
    }

    /// Whether some registration would run now (callers skip building payloads otherwise).
    fn is_active(&self) -> bool {
        self.active().next().is_some()
    }
}

/// A value-transforming hook point.
pub struct Filter<T>(Chain<FilterFn<T>>);

impl<T: Clone> Filter<T> {
    /// An empty hook point called `name` (for logs).
    pub fn new(name: &'static str) -> Self {
        Self(Chain::new(name))
    }

    /// Registers `f` for `owner` at `priority`.
    pub fn add(
        &mut self,
        owner: impl Into<Owner>,
        priority: i32,
        f: impl Fn(T) -> Result<T, HookError> + Send + Sync + 'static,
    ) -> HookId {
        self.0.add(owner.into(), priority, Box::new(f))
    }

    /// Unregisters; false if it was not registered here.
    pub fn remove(&mut self, id: HookId) -> bool {
        self.0.remove(id)
    }

    /// Number of registered functions (on or off).
    pub fn len(&self) -> usize {
        self.0.entries.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.0.entries.is_empty()
    }

    /// Whether some function of a switched-on owner is registered.
    pub fn is_active(&self) -> bool {
        self.0.is_active()
    }

    /// Runs `value` through every switched-on function in order. Only a
    /// [`HookError::Reject`] comes back as an error; failures and panics are logged and that
    /// function is skipped.
    pub fn apply(&self, value: T) -> Result<T, HookError> {
        let mut value = value;
        for e in self.0.active() {
            let input = value.clone();
            match catch_unwind(AssertUnwindSafe(|| (e.f)(input))) {
                Ok(Ok(v)) => value = v,
                Ok(Err(HookError::Reject(msg))) => {
                    tracing::info!(hook = self.0.name, plugin = e.owner.name, reason = %msg, "filter rejected");
                    return Err(HookError::Reject(msg));
                }
                Ok(Err(HookError::Failed(why))) => {
                    tracing::error!(hook = self.0.name, plugin = e.owner.name, error = %why, "filter failed; its input is kept");
                }
                Err(p) => {
                    tracing::error!(hook = self.0.name, plugin = e.owner.name, panic = %panic_message(&*p), "filter panicked; its input is kept");
                }
            }
        }
        Ok(value)
    }
}

/// What an action function gets besides the event: the database, inside the function's own
/// transaction, and a way to queue durable work for its plugin.
pub struct HookCtx<'a> {
    /// The connection, inside this function's transaction (or savepoint).
    pub conn: &'a mut DbConn,
    plugin: &'static str,
}

impl<'a> HookCtx<'a> {
    /// A context over `conn`.
    pub fn new(conn: &'a mut DbConn) -> Self {
        Self {
            conn,
            plugin: "core",
        }
    }

    /// Queues `task` for this plugin's job runner (see [`Registry::on_job`]), in the same
    /// transaction: it runs exactly when this function's work commits, with retries.
    pub fn enqueue(&mut self, task: serde_json::Value) -> diesel::QueryResult<()> {
        jobs::enqueue(
            self.conn,
            &[Job::Plugin {
                plugin: self.plugin.to_string(),
                task,
            }],
        )
    }
}

/// Why an action's transaction was rolled back.
enum Abort {
    Db(diesel::result::Error),
    Hook(String),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// A "something happened" hook point.
pub struct Action<E>(Chain<ActionFn<E>>);

impl<E> Action<E> {
    /// An empty hook point called `name` (for logs).
    pub fn new(name: &'static str) -> Self {
        Self(Chain::new(name))
    }

    /// Registers `f` for `owner` at `priority`.
    pub fn add(
        &mut self,
        owner: impl Into<Owner>,
        priority: i32,
        f: impl Fn(&mut HookCtx<'_>, &E) -> Result<(), HookError> + Send + Sync + 'static,
    ) -> HookId {
        self.0.add(owner.into(), priority, Box::new(f))
    }

    /// Unregisters; false if it was not registered here.
    pub fn remove(&mut self, id: HookId) -> bool {
        self.0.remove(id)
    }

    /// Whether some function of a switched-on owner is registered.
    pub fn is_active(&self) -> bool {
        self.0.is_active()
    }

    /// Notifies every switched-on function in order, each in its own transaction (savepoint):
    /// a failure or panic is logged, its writes are rolled back, and the rest still run.
    pub fn notify(&self, conn: &mut DbConn, event: &E) {
        use diesel::Connection;
        for e in self.0.active() {
            let outcome = conn.transaction::<(), Abort, _>(|conn| {
                let mut ctx = HookCtx {
                    conn,
                    plugin: e.owner.name,
                };
                match catch_unwind(AssertUnwindSafe(|| (e.f)(&mut ctx, event))) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(err)) => Err(Abort::Hook(err.to_string())),
                    Err(p) => Err(Abort::Hook(format!("panic: {}", panic_message(&*p)))),
                }
            });
            match outcome {
                Ok(()) => {}
                Err(Abort::Hook(why)) => {
                    tracing::error!(hook = self.0.name, plugin = e.owner.name, error = %why, "action failed; its writes were rolled back")
                }
                Err(Abort::Db(err)) => {
                    tracing::error!(hook = self.0.name, plugin = e.owner.name, error = %err, "action failed in the database")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn tag(t: &'static str) -> impl Fn(String) -> Result<String, HookError> + Send + Sync {
        move |s| Ok(format!("{s}{t}"))
    }

    #[test]
    fn filters_run_by_priority_then_registration_order() {
        let mut f = Filter::new("test");
        f.add("p", 20, tag("c"));
        f.add("p", 5, tag("a"));
        f.add("p", DEFAULT_PRIORITY, tag("b1"));
        f.add("p", DEFAULT_PRIORITY, tag("b2"));
        f.add("p", 20, tag("d"));
        assert_eq!(f.apply(String::new()).unwrap(), "ab1b2cd");
    }

    #[test]
    fn removal() {
        let mut f = Filter::new("test");
        let a = f.add("p", 1, tag("a"));
        f.add("p", 2, tag("b"));
        assert!(f.remove(a));
        assert!(!f.remove(a), "only once");
        assert_eq!(f.apply(String::new()).unwrap(), "b");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn a_reject_stops_the_chain_with_its_message() {
        let mut f = Filter::new("test");
        f.add("p", 1, tag("a"));
        f.add("guard", 2, |s: String| {
            if s.contains('a') {
                Err(HookError::Reject("no a allowed".into()))
            } else {
                Ok(s)
            }
        });
        f.add("p", 3, |_s: String| -> Result<String, HookError> {
            panic!("must not run")
        });
        assert_eq!(
            f.apply(String::new()),
            Err(HookError::Reject("no a allowed".into()))
        );
    }

    #[test]
    fn failures_and_panics_are_isolated_and_keep_the_value() {
        let mut f = Filter::new("test");
        f.add("p", 1, tag("a"));
        f.add("broken", 2, |_s: String| {
            Err(HookError::Failed("oops".into()))
        });
        f.add("panicky", 3, |_s: String| -> Result<String, HookError> {
            panic!("boom")
        });
        f.add("p", 4, tag("b"));
        assert_eq!(
            f.apply(String::new()).unwrap(),
            "ab",
            "the value before each bad filter goes on"
        );
    }

    /// An in-memory SQLite database with the schema and a scratch table `t`.
    fn memory_db() -> DbConn {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let mut c = DbConn::establish(":memory:").unwrap();
        crate::db::run_migrations(&mut c).unwrap();
        c.batch_execute("CREATE TABLE t (v TEXT NOT NULL)").unwrap();
        c
    }

    fn scratch(c: &mut DbConn) -> Vec<String> {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        diesel::sql_query("SELECT v FROM t ORDER BY rowid")
            .load::<Row>(c)
            .unwrap()
            .into_iter()
            .map(|r| r.v)
            .collect()
    }

    fn write(c: &mut HookCtx<'_>, v: &str) -> Result<(), HookError> {
        use diesel::prelude::*;
        diesel::sql_query("INSERT INTO t (v) VALUES (?)")
            .bind::<diesel::sql_types::Text, _>(v)
            .execute(c.conn)?;
        Ok(())
    }

    #[test]
    fn actions_all_run_in_order_despite_failures() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut a: Action<i32> = Action::new("test");
        for (prio, name) in [(10, "second"), (1, "first"), (30, "last")] {
            let seen = seen.clone();
            a.add("p", prio, move |_c: &mut HookCtx<'_>, e: &i32| {
                seen.lock().unwrap().push(format!("{name}:{e}"));
                Ok(())
            });
        }
        a.add("panicky", 20, |_c: &mut HookCtx<'_>, _e: &i32| {
            panic!("boom")
        });
        a.add("broken", 15, |_c: &mut HookCtx<'_>, _e: &i32| {
            Err(HookError::Failed("nope".into()))
        });
        a.notify(&mut memory_db(), &7);
        assert_eq!(*seen.lock().unwrap(), vec!["first:7", "second:7", "last:7"]);
    }

    #[test]
    fn a_failing_action_leaves_no_writes_and_others_keep_theirs() {
        use diesel::Connection;
        let mut db = memory_db();
        let mut a: Action<()> = Action::new("test");
        a.add("good", 1, |c: &mut HookCtx<'_>, _: &()| write(c, "good"));
        a.add("half", 2, |c: &mut HookCtx<'_>, _: &()| {
            write(c, "half-written")?;
            Err(HookError::Failed("then failed".into()))
        });
        a.add("panicky", 3, |c: &mut HookCtx<'_>, _: &()| {
            write(c, "before panic")?;
            panic!("boom")
        });
        a.add("also-good", 4, |c: &mut HookCtx<'_>, _: &()| {
            write(c, "also good")
        });
        // Inside the caller's transaction (savepoints), as `post_saved` runs.
        db.transaction::<_, diesel::result::Error, _>(|c| {
            write(&mut HookCtx::new(c), "caller").unwrap();
            a.notify(c, &());
            Ok(())
        })
        .unwrap();
        assert_eq!(scratch(&mut db), vec!["caller", "good", "also good"]);
    }

    #[test]
    fn switched_off_owners_do_not_run() {
        let on = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut f = Filter::new("test");
        f.add(Owner::plugin("p", on.clone()), 1, tag("p"));
        f.add(Owner::core(), 2, tag("c"));
        assert_eq!(f.apply(String::new()).unwrap(), "c");
        assert!(f.is_active(), "core still runs");
        on.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(f.apply(String::new()).unwrap(), "pc");

        let mut only_plugin: Filter<String> = Filter::new("test");
        only_plugin.add(Owner::plugin("p", on.clone()), 1, tag("p"));
        on.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(!only_plugin.is_active());

        let mut a: Action<()> = Action::new("test");
        a.add(
            Owner::plugin("p", on.clone()),
            1,
            |c: &mut HookCtx<'_>, _: &()| write(c, "ran"),
        );
        let mut db = memory_db();
        a.notify(&mut db, &());
        assert!(scratch(&mut db).is_empty());
    }

    #[test]
    fn actions_queue_jobs_for_their_own_plugin() {
        use crate::db::schema::jobs;
        use diesel::prelude::*;
        let mut db = memory_db();
        let mut a: Action<i32> = Action::new("test");
        a.add("webhooks", 1, |c: &mut HookCtx<'_>, e: &i32| {
            c.enqueue(serde_json::json!({ "post": e }))?;
            Ok(())
        });
        a.notify(&mut db, &5);
        let payload: String = jobs::table.select(jobs::payload).first(&mut db).unwrap();
        let job: Job = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            job,
            Job::Plugin {
                plugin: "webhooks".into(),
                task: serde_json::json!({ "post": 5 })
            }
        );
    }

    #[test]
    fn registries_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Filter<String>>();
        assert_send_sync::<Action<i32>>();
    }
}
