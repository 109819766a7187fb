//! The `owner_changes` table: each owner change as JSON under an id, announced on `CHANNEL`, so
//! that every process on the database can follow the others' changes in the order they were made.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;

use super::super::{Change, StoreError};
use super::errors::{decoding, described};
use super::pg;

/// Where a committed change's id is announced.
pub const CHANNEL: &str = "saidno_owner_changes";

/// Held for the length of each owner change's transaction, by every process on the database.
/// Owner changes are few, so taking turns costs nothing, and it is what makes the table safe to
/// follow by id: an id is taken only once every earlier one is committed (or rolled back), so a
/// reader that sees an id has already been able to see every id below it.
const TURN_LOCK: i64 = 0x0073_6169_646e_6f63;

/// How long a change is kept for processes to catch up on.
const KEPT_FOR: &str = "1 day";

/// A change as read back: its id, and the change unless the row does not decode.
pub type Row = (i64, Result<Change, StoreError>);

/// Waits for this transaction's turn among every process's owner changes.
pub async fn take_turn(transaction: &impl GenericClient) -> Result<(), StoreError> {
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&TURN_LOCK]).await.map_err(pg).map(drop)
}

/// Writes `change` and announces it, both taking effect when its transaction commits; its id.
/// Written straight from the change to the wire: a batch of a million declines is never held as
/// a tree of JSON values.
pub async fn record(transaction: &impl GenericClient, change: &Change) -> Result<i64, StoreError> {
    let row = transaction
        .query_one("INSERT INTO owner_changes (change) VALUES ($1) RETURNING id", &[&Json(change)])
        .await
        .map_err(pg)?;
    let id: i64 = row.get(0);
    transaction.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &id.to_string()]).await.map_err(pg)?;
    Ok(id)
}

/// The changes after `id`, oldest first.
pub async fn after(client: &impl GenericClient, id: i64) -> Result<Vec<Row>, StoreError> {
    let rows =
        client.query("SELECT id, change FROM owner_changes WHERE id > $1 ORDER BY id", &[&id]).await.map_err(pg)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id: i64 = row.get(0);
            let change = row.try_get::<_, Json<Change>>(1).map(|Json(change)| change);
            (id, change.map_err(|error| decoding(&format!("owner change {id}"), described(&error))))
        })
        .collect())
}

/// The newest change's id (0 for none): where a process that has just read the record follows on.
pub async fn newest(client: &impl GenericClient) -> Result<i64, StoreError> {
    let row = client.query_one("SELECT coalesce(max(id), 0) FROM owner_changes", &[]).await.map_err(pg)?;
    Ok(row.get(0))
}

/// Forgets the changes older than the window; how many.
pub async fn prune(client: &impl GenericClient) -> Result<u64, StoreError> {
    let text = format!("DELETE FROM owner_changes WHERE at < now() - interval '{KEPT_FOR}'");
    client.execute(&text, &[]).await.map_err(pg)
}

/// The id a notification names, or `None` (said in the log) for a payload that names none: the
/// periodic check then finds whatever it was about.
pub fn notified_id(payload: &str) -> Option<i64> {
    match payload.trim().parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            tracing::error!(payload, "a notification of an owner change names no change; it is ignored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_a_change_by_its_id_or_is_ignored() {
        assert_eq!(notified_id("42"), Some(42));
        for payload in ["", "forty-two", "-1", "0", "12 13", "99999999999999999999"] {
            assert_eq!(notified_id(payload), None, "{payload:?}");
        }
    }
}
