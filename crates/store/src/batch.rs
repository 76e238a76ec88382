//! Writes that need no answer, sent together at the end of a transaction. On SQLite they go
//! in one call, which takes several statements: one pass through SeaORM and SQLx instead of
//! one per statement while the one writer is held (upstream SQLx also added two thread
//! hand-offs per call; `examples/round_trips.rs` measures both). PostgreSQL and MySQL take
//! one statement per prepared call, so there they run one after another, as they would have
//! anyway.
//! A failing statement fails the batch, and the caller's transaction with it.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::StoreResult;

#[derive(Default)]
pub struct Batch {
    statements: Vec<Statement>,
}

impl Batch {
    pub fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    pub async fn run(self, c: &impl ConnectionTrait) -> StoreResult<()> {
        let backend = c.get_database_backend();
        if backend != DbBackend::Sqlite || self.statements.len() < 2 {
            for statement in self.statements {
                c.execute_raw(statement).await?;
            }
            return Ok(());
        }
        let mut sql = String::new();
        let mut values: Vec<Value> = Vec::new();
        for statement in self.statements {
            if !sql.is_empty() {
                sql.push_str(";\n");
            }
            sql.push_str(&statement.sql);
            if let Some(v) = statement.values {
                values.extend(v.0);
            }
        }
        c.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_statement_of_a_sqlite_batch_runs_with_its_own_values() -> StoreResult<()> {
        let db = sea_orm::Database::connect("sqlite::memory:").await?;
        db.execute_unprepared("CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL)")
            .await?;
        let mut batch = Batch::default();
        let backend = DbBackend::Sqlite;
        batch.push(Statement::from_sql_and_values(
            backend,
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)",
            [1.into(), "one".into(), 2.into(), "two".into()],
        ));
        batch.push(Statement::from_sql_and_values(
            backend,
            "UPDATE t SET b = ? WHERE a = ?",
            ["uno".into(), 1.into()],
        ));
        batch.push(Statement::from_sql_and_values(
            backend,
            "INSERT INTO t (a, b) VALUES (?, ?)",
            [3.into(), "three".into()],
        ));
        batch.run(&db).await?;
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT a, b FROM t ORDER BY a",
            ))
            .await?;
        let got: Vec<(i64, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get("", "a")?, r.try_get("", "b")?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
        assert_eq!(
            got,
            [(1, "uno".into()), (2, "two".into()), (3, "three".into())]
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_statement_fails_the_batch() -> StoreResult<()> {
        let db = sea_orm::Database::connect("sqlite::memory:").await?;
        db.execute_unprepared("CREATE TABLE t (a INTEGER PRIMARY KEY)")
            .await?;
        let mut batch = Batch::default();
        for a in [1, 1] {
            batch.push(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO t (a) VALUES (?)",
                [a.into()],
            ));
        }
        assert!(
            batch.run(&db).await.is_err(),
            "the duplicate key is reported"
        );
        Ok(())
    }
}
