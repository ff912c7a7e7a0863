//! The two migration dialects must describe the same tables and columns.

use std::collections::BTreeMap;
use std::path::Path;

type Tables = BTreeMap<String, Vec<String>>;

/// Table → column names, read from every `up.sql` of a dialect folder in order.
fn columns_in(dir: &Path) -> (Vec<String>, Tables) {
    let mut migrations: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    migrations.sort();
    let mut tables = Tables::new();
    for m in &migrations {
        let sql = std::fs::read_to_string(m.join("up.sql")).unwrap();
        for line in sql.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] = words[..] {
                tables
                    .entry(table.trim_matches('`').to_string())
                    .or_default()
                    .push(column.trim_matches('`').to_string());
            }
        }
        let mut rest = sql.as_str();
        while let Some(i) = rest.find("CREATE TABLE ") {
            rest = &rest[i + 13..];
            let name: String = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_matches('`')
                .into();
            let body = &rest[rest.find('(').unwrap() + 1..];
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|&(_, ch)| {
                    match ch {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .unwrap()
                .0;
            let cols = split_top(&body[..end])
                .into_iter()
                .filter_map(|line| {
                    let first = line.split_whitespace().next()?.trim_matches('`');
                    let upper = first.to_ascii_uppercase();
                    let is_constraint = [
                        "KEY",
                        "UNIQUE",
                        "PRIMARY",
                        "CONSTRAINT",
                        "INDEX",
                        "FOREIGN",
                        "FULLTEXT",
                    ]
                    .contains(&upper.as_str());
                    (!is_constraint).then(|| first.to_string())
                })
                .collect();
            tables.insert(name, cols);
        }
    }
    (
        migrations
            .iter()
            .map(|m| m.file_name().unwrap().to_string_lossy().into_owned())
            .collect(),
        tables,
    )
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for ch in s.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur);
    out.into_iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect()
}

#[test]
fn both_dialects_define_the_same_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("core/migrations");
    let (sqlite_names, sqlite) = columns_in(&root.join("sqlite"));
    let (mysql_names, mysql) = columns_in(&root.join("mysql"));
    assert_eq!(
        sqlite_names, mysql_names,
        "the same migrations, by name, in both folders"
    );
    assert!(sqlite.contains_key("posts") && sqlite["posts"].contains(&"parent_id".to_string()));
    assert_eq!(
        sqlite, mysql,
        "the same tables and columns in the same order"
    );
}

/// The live databases agree too, column by column (MySQL when a server is configured).
#[cfg(feature = "mysql")]
#[tokio::test]
async fn live_schemas_match() {
    use crate::helpers::{Backend, TestApp};
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        t: String,
        #[diesel(sql_type = Text)]
        c: String,
    }
    let Some(my) = TestApp::spawn(Backend::Mysql).await else {
        return;
    };
    let lite = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let lite_cols: Vec<(String, String)> = lite.db(|conn| match conn {
        posthaste::db::DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' ORDER BY m.name, p.cid",
        ).load::<Col>(c).unwrap().into_iter().map(|r| (r.t, r.c)).collect(),
        _ => unreachable!(),
    });
    let my_cols: Vec<(String, String)> = my.db(|conn| match conn {
        posthaste::db::DbConn::Mysql(c) => diesel::sql_query(
            "SELECT CAST(table_name AS CHAR) AS t, CAST(column_name AS CHAR) AS c FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name <> '__diesel_schema_migrations' ORDER BY CAST(table_name AS BINARY), ordinal_position",
        ).load::<Col>(c).unwrap().into_iter().map(|r| (r.t, r.c)).collect(),
        _ => unreachable!(),
    });
    assert_eq!(lite_cols, my_cols);
}
