//! Typed hooks with WordPress's semantics (issue 5, first slice: the registry itself).
//!
//! - An [`Action<E>`] is notified that something happened (after the change is committed):
//!   every registered function gets the event, in priority order.
//! - A [`Filter<T>`] passes a value through every registered function in priority order; each
//!   returns the value for the next one. A filter may *reject* ([`HookError::Reject`]): the
//!   chain stops and the message reaches the person (for example "posts may not mention
//!   @everyone"). A filter that *fails* ([`HookError::Failed`]) or panics is logged with its
//!   plugin's name and skipped: the value from before that filter goes on.
//! - Priorities: lower runs first; equal priorities run in registration order (WordPress's
//!   `add_filter($hook, $fn, $priority)`; the default is [`DEFAULT_PRIORITY`]).
//! - Registration happens at start; the application then shares the registry behind an `Arc`
//!   and never changes it, so calling hooks takes no lock.

use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// Identifies one registration, for [`Filter::remove`] / [`Action::remove`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookId(u64);

struct Entry<F: ?Sized> {
    id: u64,
    priority: i32,
    plugin: &'static str,
    f: Box<F>,
}

type FilterFn<T> = dyn Fn(T) -> Result<T, HookError> + Send + Sync;
type ActionFn<E> = dyn Fn(&E) -> Result<(), HookError> + Send + Sync;

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

    fn add(&mut self, plugin: &'static str, priority: i32, f: Box<F>) -> HookId {
        self.next_id += 1;
        let at = self.entries.partition_point(|x| x.priority <= priority);
        self.entries.insert(
            at,
            Entry {
                id: self.next_id,
                priority,
                plugin,
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
}

/// A value-transforming hook point.
pub struct Filter<T>(Chain<FilterFn<T>>);

impl<T: Clone> Filter<T> {
    /// An empty hook point called `name` (for logs).
    pub fn new(name: &'static str) -> Self {
        Self(Chain::new(name))
    }

    /// Registers `f` for `plugin` at `priority`.
    pub fn add(
        &mut self,
        plugin: &'static str,
        priority: i32,
        f: impl Fn(T) -> Result<T, HookError> + Send + Sync + 'static,
    ) -> HookId {
        self.0.add(plugin, priority, Box::new(f))
    }

    /// Unregisters; false if it was not registered here.
    pub fn remove(&mut self, id: HookId) -> bool {
        self.0.remove(id)
    }

    /// Number of registered functions.
    pub fn len(&self) -> usize {
        self.0.entries.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.0.entries.is_empty()
    }

    /// Runs `value` through every function in order. Only a [`HookError::Reject`] comes back
    /// as an error; failures and panics are logged and that function is skipped.
    pub fn apply(&self, value: T) -> Result<T, HookError> {
        let mut value = value;
        for e in &self.0.entries {
            let input = value.clone();
            match catch_unwind(AssertUnwindSafe(|| (e.f)(input))) {
                Ok(Ok(v)) => value = v,
                Ok(Err(HookError::Reject(msg))) => return Err(HookError::Reject(msg)),
                Ok(Err(HookError::Failed(why))) => {
                    tracing::error!(hook = self.0.name, plugin = e.plugin, error = %why, "filter failed; its input is kept");
                }
                Err(p) => {
                    tracing::error!(hook = self.0.name, plugin = e.plugin, panic = %panic_message(&*p), "filter panicked; its input is kept");
                }
            }
        }
        Ok(value)
    }
}

/// A "something happened" hook point.
pub struct Action<E>(Chain<ActionFn<E>>);

impl<E> Action<E> {
    /// An empty hook point called `name` (for logs).
    pub fn new(name: &'static str) -> Self {
        Self(Chain::new(name))
    }

    /// Registers `f` for `plugin` at `priority`.
    pub fn add(
        &mut self,
        plugin: &'static str,
        priority: i32,
        f: impl Fn(&E) -> Result<(), HookError> + Send + Sync + 'static,
    ) -> HookId {
        self.0.add(plugin, priority, Box::new(f))
    }

    /// Unregisters; false if it was not registered here.
    pub fn remove(&mut self, id: HookId) -> bool {
        self.0.remove(id)
    }

    /// Notifies every function in order; failures and panics are logged and the rest still run.
    pub fn notify(&self, event: &E) {
        for e in &self.0.entries {
            match catch_unwind(AssertUnwindSafe(|| (e.f)(event))) {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    tracing::error!(hook = self.0.name, plugin = e.plugin, error = %err, "action failed")
                }
                Err(p) => {
                    tracing::error!(hook = self.0.name, plugin = e.plugin, panic = %panic_message(&*p), "action panicked")
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

    #[test]
    fn actions_all_run_in_order_despite_failures() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut a: Action<i32> = Action::new("test");
        for (prio, name) in [(10, "second"), (1, "first"), (30, "last")] {
            let seen = seen.clone();
            a.add("p", prio, move |e: &i32| {
                seen.lock().unwrap().push(format!("{name}:{e}"));
                Ok(())
            });
        }
        a.add("panicky", 20, |_e: &i32| panic!("boom"));
        a.add("broken", 15, |_e: &i32| {
            Err(HookError::Failed("nope".into()))
        });
        a.notify(&7);
        assert_eq!(*seen.lock().unwrap(), vec!["first:7", "second:7", "last:7"]);
    }

    #[test]
    fn registries_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Filter<String>>();
        assert_send_sync::<Action<i32>>();
    }
}
