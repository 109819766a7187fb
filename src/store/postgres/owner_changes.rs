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

/// Writes `change` of `business` and announces it, both taking effect when its transaction
/// commits; its id.
/// Written straight from the change to the wire: a batch of a million declines is never held as
/// a tree of JSON values.
pub async fn record(transaction: &impl GenericClient, business: i64, change: &Change) -> Result<i64, StoreError> {
    let row = transaction
        .query_one(
            "INSERT INTO owner_changes (business_id, change) VALUES ($1, $2) RETURNING id",
            &[&business, &Json(change)],
        )
        .await
        .map_err(pg)?;
    let id: i64 = row.get(0);
    let announced = Announced::Change { business, id }.to_string();
    transaction.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &announced]).await.map_err(pg)?;
    Ok(id)
}

/// The changes of `business` after `id`, oldest first.
pub async fn after(client: &impl GenericClient, business: i64, id: i64) -> Result<Vec<Row>, StoreError> {
    let rows = client
        .query("SELECT id, change FROM owner_changes WHERE business_id = $1 AND id > $2 ORDER BY id", &[&business, &id])
        .await
        .map_err(pg)?;
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

/// The businesses with changes after `id`, and the newest change's id (`id` when none is newer):
/// what the periodic check catches up on.
pub async fn businesses_after(client: &impl GenericClient, id: i64) -> Result<(Vec<i64>, i64), StoreError> {
    let rows = client
        .query("SELECT business_id, max(id) FROM owner_changes WHERE id > $1 GROUP BY business_id", &[&id])
        .await
        .map_err(pg)?;
    let newest = rows.iter().map(|row| row.get::<_, i64>(1)).max().unwrap_or(id);
    Ok((rows.iter().map(|row| row.get(0)).collect(), newest))
}

/// What a notification on `CHANNEL` tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announced {
    /// A business's owner change, by the business and the change's id.
    Change { business: i64, id: i64 },
    /// A business or a line was added, changed or removed.
    Businesses,
}

const BUSINESSES: &str = "businesses";

impl std::fmt::Display for Announced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Change { business, id } => write!(f, "{business}:{id}"),
            Self::Businesses => f.write_str(BUSINESSES),
        }
    }
}

/// What a notification tells, or `None` (said in the log) for a payload that tells nothing: the
/// periodic check then finds whatever it was about.
pub fn announced(payload: &str) -> Option<Announced> {
    let payload = payload.trim();
    if payload == BUSINESSES {
        return Some(Announced::Businesses);
    }
    let positive = |text: &str| text.parse::<i64>().ok().filter(|number| *number > 0);
    match payload.split_once(':').map(|(business, id)| (positive(business), positive(id))) {
        Some((Some(business), Some(id))) => Some(Announced::Change { business, id }),
        _ => {
            tracing::error!(payload, "a notification names no change; it is ignored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_a_business_and_its_change_or_the_businesses_or_is_ignored() {
        assert_eq!(announced("3:42"), Some(Announced::Change { business: 3, id: 42 }));
        assert_eq!(announced(&Announced::Change { business: 1, id: 7 }.to_string()), announced("1:7"));
        assert_eq!(announced("businesses"), Some(Announced::Businesses));
        for payload in ["", "42", "forty-two", "1:-1", "0:3", "3:0", "1:12 13", "1:99999999999999999999"] {
            assert_eq!(announced(payload), None, "{payload:?}");
        }
    }
}
