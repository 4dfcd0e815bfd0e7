//! The SQLite and PostgreSQL migrations must build the same schema: the same
//! tables, columns (name, nullability, type family), primary keys, unique
//! constraints and named indexes. Catalog details are normalized first:
//! - declared types become a family (`BIGINT`, `INTEGER`, `int8` → integer);
//! - an `INTEGER PRIMARY KEY` column counts as NOT NULL: it is SQLite's rowid,
//!   which cannot be NULL, though the catalog reports the column nullable;
//! - primary keys and unique constraints are compared by their columns, since
//!   each backend names their indexes its own way (`sqlite_autoindex_users_1`,
//!   `users_name_lower_key`).
//!
//! What one backend has by design is listed in [`BACKEND_SPECIFIC`].

use super::{fresh_postgres, fresh_sqlite};
use crate::{Backend, Database};
use sqlx::Row;
use std::collections::BTreeSet;
use std::fmt;

/// A part of the schema one backend has by design.
enum Object {
    /// Tables whose name starts with this, with their columns and indexes.
    TablesStartingWith(&'static str),
    /// One column, as `(table, column)`.
    Column(&'static str, &'static str),
    /// A column that admits NULL on this backend only, as `(table, column)`;
    /// it is compared as NOT NULL.
    NullableColumn(&'static str, &'static str),
    /// One index, by name.
    Index(&'static str),
}

/// Every difference the comparison allows, each with its reason. Anything
/// else that differs fails the test, and so does an entry that no longer
/// matches anything. (SQLite's own `sqlite_*` tables, such as `sqlite_stat1`,
/// are not read at all: the prefix is reserved, so no migration can make one.)
const BACKEND_SPECIFIC: &[(Backend, Object, &str)] = &[
    (
        Backend::Sqlite,
        Object::NullableColumn("sessions", "id_hash"),
        NULLABLE_KEY,
    ),
    (
        Backend::Sqlite,
        Object::NullableColumn("deployments", "id"),
        NULLABLE_KEY,
    ),
    (
        Backend::Sqlite,
        Object::NullableColumn("scan_reports", "file_id"),
        NULLABLE_KEY,
    ),
    (
        Backend::Sqlite,
        Object::NullableColumn("wharf_migrations", "version"),
        NULLABLE_KEY,
    ),
    (
        Backend::Sqlite,
        Object::TablesStartingWith("project_fts"),
        "FTS5 index of project_search and its shadow tables (PostgreSQL: project_search.document)",
    ),
    (
        Backend::Sqlite,
        Object::TablesStartingWith("mcp_fts"),
        "FTS5 index of mcp_search and its shadow tables (PostgreSQL: mcp_search.document)",
    ),
    (
        Backend::Postgres,
        Object::Column("project_search", "document"),
        "generated tsvector that project search matches (SQLite: project_fts)",
    ),
    (
        Backend::Postgres,
        Object::Column("mcp_search", "document"),
        "generated tsvector that MCP search matches (SQLite: mcp_fts)",
    ),
    (
        Backend::Postgres,
        Object::Index("project_search_document"),
        "GIN index over project_search.document",
    ),
    (
        Backend::Postgres,
        Object::Index("mcp_search_document"),
        "GIN index over mcp_search.document",
    ),
    (
        Backend::Postgres,
        Object::Index("project_search_name_trgm"),
        "pg_trgm index for near-miss project names; SQLite search has no trigrams",
    ),
    (
        Backend::Postgres,
        Object::Index("mcp_search_name_trgm"),
        "pg_trgm index for near-miss server names; SQLite search has no trigrams",
    ),
];

/// Why a single-column primary key that is not `INTEGER` may hold NULL on
/// SQLite: a legacy rule SQLite keeps (PostgreSQL's keys imply NOT NULL).
/// Wharf binds no NULL key; adding NOT NULL would mean rebuilding the table.
const NULLABLE_KEY: &str = "a non-INTEGER primary key admits NULL on SQLite (legacy rule); \
                            Wharf never writes one, and NOT NULL needs a table rebuild";

/// One normalized fact about a schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Table(String),
    Column {
        table: String,
        name: String,
        family: String,
        is_nullable: bool,
    },
    PrimaryKey {
        table: String,
        columns: String,
    },
    Unique {
        table: String,
        columns: String,
    },
    Index {
        table: String,
        name: String,
        columns: String,
        is_unique: bool,
    },
}

impl Item {
    fn table(&self) -> &str {
        match self {
            Item::Table(table)
            | Item::Column { table, .. }
            | Item::PrimaryKey { table, .. }
            | Item::Unique { table, .. }
            | Item::Index { table, .. } => table,
        }
    }

    fn is(&self, object: &Object) -> bool {
        match (object, self) {
            (Object::TablesStartingWith(prefix), item) => item.table().starts_with(prefix),
            (Object::Column(t, c), Item::Column { table, name, .. }) => table == t && name == c,
            (
                Object::NullableColumn(t, c),
                Item::Column {
                    table,
                    name,
                    is_nullable: true,
                    ..
                },
            ) => table == t && name == c,
            (Object::Index(i), Item::Index { name, .. }) => name == i,
            _ => false,
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Table(table) => write!(f, "table {table}"),
            Item::Column {
                table,
                name,
                family,
                is_nullable,
            } => {
                let null = if *is_nullable { "null" } else { "not null" };
                write!(f, "column {table}.{name} {family} {null}")
            }
            Item::PrimaryKey { table, columns } => write!(f, "primary key {table}({columns})"),
            Item::Unique { table, columns } => write!(f, "unique {table}({columns})"),
            Item::Index {
                table,
                name,
                columns,
                is_unique,
            } => {
                let unique = if *is_unique { "unique " } else { "" };
                write!(f, "{unique}index {name} on {table}({columns})")
            }
        }
    }
}

/// The type family of a declared SQLite type or a PostgreSQL `data_type`,
/// after SQLite's affinity rules; an unknown type stays as it is.
fn family(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let family = if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("blob") || t == "bytea" {
        "blob"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") || t == "numeric" {
        "real"
    } else if t.contains("bool") {
        "boolean"
    } else {
        return t;
    };
    family.to_owned()
}

async fn sqlite_schema(db: &Database) -> BTreeSet<Item> {
    let mut items = BTreeSet::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        r"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (table,) in tables {
        items.insert(Item::Table(table.clone()));
        let columns = sqlx::query(
            r#"SELECT name, type, "notnull", pk FROM pragma_table_info($1) ORDER BY cid"#,
        )
        .bind(&table)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let key_len = columns.iter().filter(|c| c.get::<i64, _>("pk") > 0).count();
        let mut key: Vec<(i64, String)> = Vec::new();
        for c in &columns {
            let name: String = c.get("name");
            let declared: String = c.get("type");
            let pk: i64 = c.get("pk");
            if pk > 0 {
                key.push((pk, name.clone()));
            }
            let is_rowid = key_len == 1 && pk == 1 && declared.eq_ignore_ascii_case("INTEGER");
            items.insert(Item::Column {
                table: table.clone(),
                name,
                family: family(&declared),
                is_nullable: c.get::<i64, _>("notnull") == 0 && !is_rowid,
            });
        }
        if !key.is_empty() {
            key.sort();
            items.insert(Item::PrimaryKey {
                table: table.clone(),
                columns: key
                    .into_iter()
                    .map(|(_, c)| c)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let indexes = sqlx::query(r#"SELECT name, "unique", origin FROM pragma_index_list($1)"#)
            .bind(&table)
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for index in &indexes {
            let name: String = index.get("name");
            let origin: String = index.get("origin");
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&db.pool)
                    .await
                    .unwrap();
            let columns = columns
                .into_iter()
                .map(|(c,)| c.unwrap_or_else(|| "<expression>".to_owned()))
                .collect::<Vec<_>>()
                .join(", ");
            let table = table.clone();
            match origin.as_str() {
                // The primary key is read from the columns above.
                "pk" => {}
                "u" => {
                    items.insert(Item::Unique { table, columns });
                }
                _ => {
                    items.insert(Item::Index {
                        table,
                        name,
                        columns,
                        is_unique: index.get::<i64, _>("unique") != 0,
                    });
                }
            }
        }
    }
    items
}

async fn postgres_schema(db: &Database) -> BTreeSet<Item> {
    let mut items = BTreeSet::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    items.extend(tables.into_iter().map(|(t,)| Item::Table(t)));
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    items.extend(
        columns
            .into_iter()
            .map(|(table, name, data_type, nullable)| Item::Column {
                table,
                name,
                family: family(&data_type),
                is_nullable: nullable == "YES",
            }),
    );
    // An expression in an index (attnum 0) is shown as its definition.
    let indexes = sqlx::query(
        "SELECT i.relname::text AS name, t.relname::text AS table_name,
                ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
                EXISTS (SELECT 1 FROM pg_constraint c
                        WHERE c.conindid = ix.indexrelid AND c.contype = 'u') AS is_constraint,
                (SELECT string_agg(COALESCE(a.attname::text,
                                            pg_get_indexdef(ix.indexrelid, k.ord::int, true)),
                                   ', ' ORDER BY k.ord)
                 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                ) AS columns
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = current_schema()",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for index in &indexes {
        let table: String = index.get("table_name");
        let columns: String = index.get("columns");
        items.insert(if index.get::<bool, _>("is_primary") {
            Item::PrimaryKey { table, columns }
        } else if index.get::<bool, _>("is_constraint") {
            Item::Unique { table, columns }
        } else {
            Item::Index {
                table,
                name: index.get("name"),
                columns,
                is_unique: index.get("is_unique"),
            }
        });
    }
    items
}

/// Takes out (or, for a nullable column, marks NOT NULL) what `backend`
/// has by design, checking that each entry still matches something.
fn without_backend_specific(backend: Backend, items: BTreeSet<Item>) -> BTreeSet<Item> {
    let mut items: Vec<Item> = items.into_iter().collect();
    for (_, object, reason) in BACKEND_SPECIFIC.iter().filter(|(b, ..)| *b == backend) {
        let matched = items.iter().filter(|item| item.is(object)).count();
        assert!(
            matched > 0,
            "the {backend:?} exception '{reason}' matches nothing any more: remove it"
        );
        items = items
            .into_iter()
            .filter_map(|item| match (item.is(object), object, item) {
                (false, _, item) => Some(item),
                (
                    true,
                    Object::NullableColumn(..),
                    Item::Column {
                        table,
                        name,
                        family,
                        ..
                    },
                ) => Some(Item::Column {
                    table,
                    name,
                    family,
                    is_nullable: false,
                }),
                (true, ..) => None,
            })
            .collect();
    }
    items.into_iter().collect()
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_produce_the_same_schema() {
    let sqlite = fresh_sqlite().await;
    let postgres = fresh_postgres().await;
    let sqlite = without_backend_specific(Backend::Sqlite, sqlite_schema(&sqlite.db).await);
    let postgres = without_backend_specific(Backend::Postgres, postgres_schema(&postgres.db).await);

    // A reader that finds nothing would make both sides agree.
    for expected in [
        "column users.name_lower text not null",
        "unique users(name_lower)",
        "primary key project_roles(project_id, user_id)",
        "index files_status on files(status, id)",
    ] {
        for (backend, items) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
            assert!(
                items.iter().any(|i| i.to_string() == expected),
                "{backend} schema lacks '{expected}'"
            );
        }
    }
    let lines = |a: &BTreeSet<Item>, b: &BTreeSet<Item>| {
        a.difference(b)
            .map(|i| format!("\n  {i}"))
            .collect::<String>()
    };
    let (only_sqlite, only_postgres) = (lines(&sqlite, &postgres), lines(&postgres, &sqlite));
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations disagree (fix the backend that is behind with a new migration, \
         or list a difference that is by design in BACKEND_SPECIFIC)\
         \nonly on SQLite:{only_sqlite}\nonly on PostgreSQL:{only_postgres}"
    );
}
