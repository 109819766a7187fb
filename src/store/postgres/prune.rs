//! Retention: calls past the period leave the log in bounded batches, oldest first, each in one
//! transaction; a call `keep` says to keep (a legal hold's) stays where it is.
//!
//! A batch deletes rows rather than dropping a month's partition whole: a held call may sit in
//! any month, and deleting keeps it in place without moving it.

use std::time::SystemTime;

use jiff::Timestamp;

use super::super::query::hour_of;
use super::super::{Cursor, Keep, Pruned, StoreError};
use super::call_log::COLUMNS;
use super::call_pages::read_call;
use super::values::time;
use super::{Shared, pg};

/// One bounded batch of pruning, as `CallHistory::prune_calls` describes it.
pub async fn batch(
    shared: &Shared,
    before: Timestamp,
    keep: &Keep,
    after: Option<Cursor>,
    budget: usize,
) -> Result<Pruned, StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let mut walk = vec!["at < $1".to_owned()];
    let mut values: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = vec![Box::new(time(before))];
    if let Some(after) = after {
        let (at, id) = after.parts();
        let at = Timestamp::from_microsecond(at).map_err(|e| StoreError::Corrupt(format!("a cursor's time: {e}")))?;
        walk.push("(at, id) > ($2, $3)".into());
        values.push(Box::new(time(at)));
        values.push(Box::new(id));
    }
    let text =
        format!("SELECT {COLUMNS} FROM calls WHERE {} ORDER BY at, id LIMIT {budget} FOR UPDATE", walk.join(" AND "));
    let parameters: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        values.iter().map(|value| &**value as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    let rows = transaction.query(&text, &parameters).await.map_err(pg)?;
    let mut pruned = Pruned::default();
    let (mut doomed_at, mut doomed_id): (Vec<SystemTime>, Vec<i64>) = (Vec::new(), Vec::new());
    for (looked_at, row) in rows.iter().enumerate() {
        let at: SystemTime = row.get(0);
        let id: i64 = row.get(1);
        match read_call(row) {
            // A record that cannot be read may belong to a held party: it stays.
            Ok((_, call)) if !keep(&call) => {
                doomed_at.push(at);
                doomed_id.push(id);
                pruned.calls += 1;
            }
            _ => pruned.kept += 1,
        }
        if looked_at + 1 >= budget {
            pruned.next = Some(Cursor::new(super::values::moment(at)?, id as u64));
        }
    }
    transaction
        .execute(
            "DELETE FROM calls WHERE (at, id) IN (SELECT * FROM unnest($1::timestamptz[], $2::bigint[]))",
            &[&doomed_at, &doomed_id],
        )
        .await
        .map_err(pg)?;
    // Only the hours that ended by `before`: the hour it falls in still counts younger calls.
    let removed = transaction.execute("DELETE FROM tallies WHERE hour < $1", &[&hour_of(before)]).await.map_err(pg)?;
    pruned.tallies = removed as usize;
    transaction.commit().await.map_err(pg)?;
    Ok(pruned)
}
