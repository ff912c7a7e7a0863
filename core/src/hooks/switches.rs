//! Plugins switched on or off from the admin page: stored in `plugin_states` so the choice
//! outlives restarts and reaches every node (each reads the table on its `tick`).

use diesel::prelude::*;

use super::Hooks;
use crate::db::schema::plugin_states;
use crate::db::{self, DbConn};

/// The stored choices: plugin name → on.
pub fn load(conn: &mut DbConn) -> QueryResult<Vec<(String, bool)>> {
    plugin_states::table
        .select((plugin_states::name, plugin_states::enabled))
        .load(conn)
}

/// Stores an admin's choice (insert or update).
pub fn save(conn: &mut DbConn, name: &str, on: bool) -> QueryResult<()> {
    let now = db::now();
    conn.transaction(|conn| {
        let n = diesel::update(plugin_states::table.find(name))
            .set((
                plugin_states::enabled.eq(on),
                plugin_states::updated_at.eq(now),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(plugin_states::table)
                .values((
                    plugin_states::name.eq(name),
                    plugin_states::enabled.eq(on),
                    plugin_states::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Applies the stored choices to this process's switches (names no longer compiled in are
/// ignored).
pub fn refresh(conn: &mut DbConn, hooks: &Hooks) -> QueryResult<()> {
    for (name, on) in load(conn)? {
        hooks.set_on(&name, on);
    }
    Ok(())
}
