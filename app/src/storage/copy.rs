//! Copying a whole database to another one, of either engine (`hailong copy`): every table,
//! row for row, from one consistent read of the source into one transaction on the target.

use futures::TryStreamExt;
use sqlx::{QueryBuilder, Row};

use super::{known_schema, on_conn, on_pool, AsConn, Conn, Db, Engine, Result, StorageError};

/// How a column's values travel: read from the source and bound to the target as this type.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Bytes,
}

/// One value of a row being copied.
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Value {
    /// The value as a column of `kind` takes it: a flag and an integer 0/1 are the same thing.
    fn bound_as(self, kind: Kind) -> Self {
        match (self, kind) {
            (Value::Bool(flag), Kind::Int) => Value::Int(flag.map(i64::from)),
            (Value::Int(n), Kind::Bool) => Value::Bool(n.map(|n| n != 0)),
            (value, _) => value,
        }
    }
}

/// A table of the schema: its name and its columns, in order.
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
}

/// Most parameters in one INSERT, under SQLite's 32,766.
const PARAMETERS_PER_INSERT: usize = 30_000;

impl Db {
    /// The schema's tables and their columns, as this database declares them (without sqlx's
    /// own bookkeeping), by name.
    async fn tables(&self) -> Result<Vec<Table>> {
        let columns: Vec<(String, String, String)> = on_pool!(&self.read, |p| {
            let sql = match self.engine() {
                Engine::Sqlite => {
                    "SELECT m.name, c.name, c.type FROM sqlite_master m JOIN pragma_table_info(m.name) c
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> '_sqlx_migrations'
                     ORDER BY m.name, c.cid"
                }
                Engine::Postgres => {
                    "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'
                     ORDER BY table_name, ordinal_position"
                }
            };
            sqlx::query_as(sql).fetch_all(p).await?
        });
        let mut tables: Vec<Table> = Vec::new();
        for (table, column, declared) in columns {
            if tables.last().is_none_or(|t| t.name != table) {
                tables.push(Table { name: table, columns: Vec::new() });
            }
            let kind = kind_of(&declared);
            tables.last_mut().expect("pushed above").columns.push((column, kind));
        }
        Ok(tables)
    }

    /// The newest migration applied.
    async fn schema_version(&self) -> Result<i64> {
        Ok(on_pool!(&self.read, |p| {
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
                .fetch_one(p)
                .await?
        }))
    }

    /// Rows in each table, by table name.
    pub async fn row_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut counts = Vec::new();
        for table in self.tables().await? {
            let sql = format!("SELECT COUNT(*) FROM {}", table.name);
            let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?);
            counts.push((table.name, n as u64));
        }
        Ok(counts)
    }

    /// Copies every row of `self` into `target`, which must be migrated and empty: one read of
    /// `self` (a consistent snapshot, while servers may go on writing), one transaction on
    /// `target` (nothing stays there if the copy fails). `progress` hears each table's rows.
    /// Returns the rows copied per table.
    pub async fn copy_into(&self, target: &Db, mut progress: impl FnMut(&str, u64)) -> Result<Vec<(String, u64)>> {
        let (from_schema, to_schema) = (self.schema_version().await?, target.schema_version().await?);
        if from_schema != known_schema() || to_schema != known_schema() {
            return Err(StorageError::Url(format!(
                "nguồn (lược đồ {from_schema}) và đích (lược đồ {to_schema}) phải cùng lược đồ {} của phiên bản này: \
                 hãy chạy hailong migrate trên cả hai trước",
                known_schema()
            )));
        }
        let tables = self.tables().await?;
        let names = |tables: &[Table]| tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let target_tables = target.tables().await?;
        if names(&tables) != names(&target_tables) {
            return Err(StorageError::Corrupt(format!(
                "bảng của nguồn {:?} khác bảng của đích {:?}",
                names(&tables),
                names(&target_tables)
            )));
        }
        if let Some((table, n)) = target.row_counts().await?.into_iter().find(|(_, n)| *n > 0) {
            return Err(StorageError::Url(format!(
                "cơ sở dữ liệu đích đã có dữ liệu ({n} dòng trong {table}): chỉ chép vào một cơ sở dữ liệu trống"
            )));
        }
        let mut copied = Vec::new();
        on_pool!(&self.read, |from| {
            let mut from = from.begin().await?;
            if self.engine() == Engine::Postgres {
                // Every table as of one moment, while servers may go on writing.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *from).await?;
            }
            on_pool!(&target.write, |to| {
                let mut to = to.begin().await?;
                sqlx::query(target.engine().defer_foreign_keys()).execute(&mut *to).await?;
                for (table, target_table) in tables.iter().zip(&target_tables) {
                    let count = format!("SELECT COUNT(*) FROM {}", table.name);
                    let expected: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count)).fetch_one(&mut *from).await?;
                    let n = copy_table(from.conn(), to.conn(), table, target_table).await?;
                    if n != expected as u64 {
                        return Err(StorageError::Corrupt(format!(
                            "bảng {}: {expected} dòng ở nguồn, chép được {n}",
                            table.name
                        )));
                    }
                    progress(&table.name, n);
                    copied.push((table.name.clone(), n));
                }
                if target.engine() == Engine::Postgres {
                    restart_identities(to.conn(), &target_tables).await?;
                }
                to.commit().await?;
            });
            from.rollback().await?;
        });
        // Counted again on the target, once committed.
        let landed = target.row_counts().await?;
        if landed != copied {
            return Err(StorageError::Corrupt(format!("đích có {landed:?} dòng sau khi chép {copied:?}")));
        }
        Ok(copied)
    }
}

fn kind_of(declared: &str) -> Kind {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("bool") {
        Kind::Bool
    } else if declared.contains("int") {
        Kind::Int
    } else if declared.contains("real") || declared.contains("double") || declared.contains("float") {
        Kind::Real
    } else if declared.contains("blob") || declared.contains("bytea") {
        Kind::Bytes
    } else {
        Kind::Text
    }
}

/// Streams `table` from `from` into `to` in multi-row INSERTs; the rows copied.
async fn copy_table(mut from: Conn<'_>, mut to: Conn<'_>, table: &Table, target: &Table) -> Result<u64> {
    let names: Vec<&str> = target.columns.iter().map(|(name, _)| name.as_str()).collect();
    if table.columns.iter().map(|(name, _)| name.as_str()).ne(names.iter().copied()) {
        return Err(StorageError::Corrupt(format!("bảng {}: cột của nguồn và đích khác nhau", table.name)));
    }
    // PostgreSQL says what each column holds; SQLite's declared types are looser (a flag may be
    // an INTEGER column): a value is read as its source's type where that is PostgreSQL, else
    // as its target's, and bound as its target's.
    let read_as: Vec<Kind> = match from {
        Conn::Postgres(_) => &table.columns,
        Conn::Sqlite(_) => &target.columns,
    }
    .iter()
    .map(|(_, kind)| *kind)
    .collect();
    let kinds: Vec<Kind> = target.columns.iter().map(|(_, kind)| *kind).collect();
    let select = format!("SELECT {} FROM {}", names.join(", "), table.name);
    let rows_per_insert = (PARAMETERS_PER_INSERT / kinds.len()).max(1);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(rows_per_insert);
    let mut copied = 0;
    on_conn!(from.reborrow(), |c| {
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *c);
        while let Some(row) = rows.try_next().await? {
            let mut values = Vec::with_capacity(kinds.len());
            for (i, (kind, bound_as)) in read_as.iter().zip(&kinds).enumerate() {
                let value = match kind {
                    Kind::Int => Value::Int(row.try_get(i)?),
                    Kind::Real => Value::Real(row.try_get(i)?),
                    Kind::Bool => Value::Bool(row.try_get(i)?),
                    Kind::Text => Value::Text(row.try_get(i)?),
                    Kind::Bytes => Value::Bytes(row.try_get(i)?),
                };
                values.push(value.bound_as(*bound_as));
            }
            batch.push(values);
            if batch.len() == rows_per_insert {
                copied += insert_batch(to.reborrow(), &table.name, &names, &mut batch).await?;
            }
        }
    });
    copied += insert_batch(to.reborrow(), &table.name, &names, &mut batch).await?;
    Ok(copied)
}

/// Inserts and empties `batch`; the rows inserted.
async fn insert_batch(to: Conn<'_>, table: &str, columns: &[&str], batch: &mut Vec<Vec<Value>>) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let rows = std::mem::take(batch);
    let n = rows.len() as u64;
    on_conn!(to, |c| {
        let mut insert = QueryBuilder::new(format!("INSERT INTO {table} ({}) ", columns.join(", ")));
        insert.push_values(rows, |mut row, values| {
            for value in values {
                match value {
                    Value::Int(v) => row.push_bind(v),
                    Value::Real(v) => row.push_bind(v),
                    Value::Bool(v) => row.push_bind(v),
                    Value::Text(v) => row.push_bind(v),
                    Value::Bytes(v) => row.push_bind(v),
                };
            }
        });
        insert.build().execute(&mut *c).await?;
    });
    Ok(n)
}

/// After ids were copied as they were, each identity column of PostgreSQL goes on after the
/// largest one, so that the next row added gets a new id.
async fn restart_identities(to: Conn<'_>, tables: &[Table]) -> Result<()> {
    let Conn::Postgres(c) = to else { return Ok(()) };
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(&mut *c)
    .await?;
    for (table, column) in identities.iter().filter(|(table, _)| tables.iter().any(|t| &t.name == table)) {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?;
    }
    Ok(())
}
