//! Retention: calls past the period leave the log in bounded batches, oldest first; a call `keep`
//! says to keep (a legal hold's) stays.
//!
//! A month that ended before the period began is replaced whole rather than emptied call by call:
//! while the walk is in it, each batch only notes the calls to keep (`prune_kept`) and how many it
//! judged (`prune_walks`); once the walk leaves the month, one transaction copies the kept calls
//! out, drops the month's partition, makes it anew and puts them back. Deleting a month's calls
//! one by one would write each of them to the database's log and leave the table to be vacuumed;
//! dropping it frees it at once. A month the period ends in, or one whose walk began in its
//! middle (where an earlier pass stopped), has its calls deleted one by one instead.
//!
//! A month's partition holds every business's calls: it is replaced whole only when it holds
//! none but the pruned business's; otherwise that business's judged calls are deleted from it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use jiff::Timestamp;
use jiff::civil::Date;
use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;

use super::super::query::hour_of;
use super::super::{Cursor, Keep, Pruned, StoreError};
use super::call_log::COLUMNS;
use super::call_pages::read_call;
use super::partitions::{self, end_of, month_of};
use super::values::{moment, time};
use super::{Tenant, pg};

/// The calls of one month that a batch looked at.
#[derive(Default)]
struct Judged {
    walked: i64,
    kept: (Vec<SystemTime>, Vec<i64>),
    doomed: (Vec<SystemTime>, Vec<i64>),
}

/// One bounded batch of pruning, as `CallHistory::prune_calls` describes it.
pub async fn batch(
    tenant: &Tenant,
    before: Timestamp,
    keep: &Keep,
    after: Option<Cursor>,
    budget: usize,
) -> Result<Pruned, StoreError> {
    let business = tenant.key();
    let mut connection = tenant.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let after = after
        .map(|cursor| {
            let (at, id) = cursor.parts();
            Timestamp::from_microsecond(at)
                .map(|at| (at, id))
                .map_err(|e| StoreError::Corrupt(format!("a cursor's time: {e}")))
        })
        .transpose()?;
    let mut walk = vec!["business_id = $1".to_owned(), "at < $2".to_owned()];
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(business), Box::new(time(before))];
    if let Some((at, id)) = after {
        walk.push("(at, id) > ($3, $4)".into());
        values.push(Box::new(time(at)));
        values.push(Box::new(id));
    }
    let text =
        format!("SELECT {COLUMNS} FROM calls WHERE {} ORDER BY at, id LIMIT {budget} FOR UPDATE", walk.join(" AND "));
    let parameters: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| &**value as &(dyn ToSql + Sync)).collect();
    let rows = transaction.query(&text, &parameters).await.map_err(pg)?;

    let mut pruned = Pruned::default();
    let mut months: BTreeMap<Date, Judged> = BTreeMap::new();
    for (looked_at, row) in rows.iter().enumerate() {
        let at: SystemTime = row.get(0);
        let id: i64 = row.get(1);
        let when = moment(at)?;
        let month = months.entry(month_of(when)).or_default();
        month.walked += 1;
        match read_call(row) {
            // A record that cannot be read may belong to a held party: it stays.
            Ok((_, call)) if !keep(&call) => {
                month.doomed.0.push(at);
                month.doomed.1.push(id);
                pruned.calls += 1;
            }
            _ => {
                month.kept.0.push(at);
                month.kept.1.push(id);
                pruned.kept += 1;
            }
        }
        if looked_at + 1 >= budget {
            pruned.next = Some(Cursor::new(when, id as u64));
        }
    }

    let last = months.keys().next_back().copied();
    for (index, (month, judged)) in months.into_iter().enumerate() {
        let ended_before = end_of(month)? <= before;
        // The walk began at the month's start: in this batch (past an earlier month), or where the
        // previous batch left off before the month.
        let start = month_start(month)?;
        let from_start = index > 0 || after.is_none_or(|(at, _)| at < start);
        if ended_before && (from_start || walking(&transaction, business, month).await?) {
            note(&transaction, business, month, &judged, from_start).await?;
            // The walk went on into a later month: this one is judged whole.
            if Some(month) != last {
                replace(&transaction, business, month).await?;
            }
        } else {
            delete(&transaction, business, &judged.doomed).await?;
        }
    }
    // The walk ends here, so every month it was walking is judged whole.
    if pruned.next.is_none() {
        let walked = transaction
            .query("SELECT month::text FROM prune_walks WHERE business_id = $1 ORDER BY month", &[&business])
            .await
            .map_err(pg)?;
        for row in walked {
            let month: Date = row.get::<_, String>(0).parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            replace(&transaction, business, month).await?;
        }
    }
    // Only the hours that ended by `before`: the hour it falls in still counts younger calls.
    let removed = transaction
        .execute("DELETE FROM tallies WHERE business_id = $1 AND hour < $2", &[&business, &hour_of(before)])
        .await
        .map_err(pg)?;
    pruned.tallies = removed as usize;
    transaction.commit().await.map_err(pg)?;
    Ok(pruned)
}

fn month_start(month: Date) -> Result<Timestamp, StoreError> {
    month
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|zoned| zoned.timestamp())
        .map_err(|e| StoreError::Backend(e.to_string()))
}

async fn delete(
    transaction: &Transaction<'_>,
    business: i64,
    (at, id): &(Vec<SystemTime>, Vec<i64>),
) -> Result<(), StoreError> {
    transaction
        .execute(
            "DELETE FROM calls WHERE business_id = $1 \
             AND (at, id) IN (SELECT * FROM unnest($2::timestamptz[], $3::bigint[]))",
            &[&business, at, id],
        )
        .await
        .map_err(pg)
        .map(drop)
}

/// Whether an earlier batch began walking `month` from its start.
async fn walking(transaction: &Transaction<'_>, business: i64, month: Date) -> Result<bool, StoreError> {
    let row = transaction
        .query_opt(
            "SELECT 1 FROM prune_walks WHERE business_id = $1 AND month = $2::text::date",
            &[&business, &month_text(month)],
        )
        .await;
    Ok(row.map_err(pg)?.is_some())
}

/// Notes what this batch judged in `month`: a walk from the month's start forgets any earlier
/// walk of it (cut short by a restart, say).
async fn note(
    transaction: &Transaction<'_>,
    business: i64,
    month: Date,
    judged: &Judged,
    from_start: bool,
) -> Result<(), StoreError> {
    let (start, end) = (time(month_start(month)?), time(end_of(month)?));
    let month = month_text(month);
    if from_start {
        forget(transaction, business, (start, end), &month).await?;
    }
    transaction
        .execute(
            "INSERT INTO prune_walks (business_id, month, walked) VALUES ($1, $2::text::date, $3) \
             ON CONFLICT (business_id, month) DO UPDATE SET walked = prune_walks.walked + EXCLUDED.walked",
            &[&business, &month, &judged.walked],
        )
        .await
        .map_err(pg)?;
    transaction
        .execute(
            "INSERT INTO prune_kept (business_id, at, id) \
             SELECT $1::bigint, * FROM unnest($2::timestamptz[], $3::bigint[])",
            &[&business, &judged.kept.0, &judged.kept.1],
        )
        .await
        .map_err(pg)?;
    Ok(())
}

/// Replaces the partition of a month whose every call of the business was judged by the walk
/// with one holding only the calls to keep, when the partition holds no other business's calls;
/// otherwise deletes the business's judged calls that are not kept. If the month holds calls of
/// the business the walk did not judge (logged behind it while it went), the month is left as it
/// is for the next pass to walk again: nothing unjudged is dropped.
async fn replace(transaction: &Transaction<'_>, business: i64, month: Date) -> Result<(), StoreError> {
    let (start, end) = (time(month_start(month)?), time(end_of(month)?));
    let partition = partitions::name(month);
    let shown = month_text(month);
    // The whole log, first, as every reader and writer locks it first: so no one waits on this
    // transaction while holding what it waits for.
    transaction.batch_execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE").await.map_err(pg)?;
    let walked: i64 = transaction
        .query_one(
            "SELECT walked FROM prune_walks WHERE business_id = $1 AND month = $2::text::date",
            &[&business, &shown],
        )
        .await
        .map_err(pg)?
        .get(0);
    let counted = transaction
        .query_one(&format!("SELECT count(*), count(*) FILTER (WHERE business_id = $1) FROM {partition}"), &[&business])
        .await
        .map_err(pg)?;
    let (held, held_here): (i64, i64) = (counted.get(0), counted.get(1));
    let kept = "(at, id) IN (SELECT at, id FROM prune_kept WHERE business_id = $1 AND at >= $2 AND at < $3)";
    if held_here == walked && held == held_here {
        transaction
            .execute(
                &format!("CREATE TEMPORARY TABLE kept_calls ON COMMIT DROP AS SELECT * FROM {partition} WHERE {kept}"),
                &[&business, &start, &end],
            )
            .await
            .map_err(pg)?;
        transaction.batch_execute(&format!("DROP TABLE {partition}")).await.map_err(pg)?;
        transaction.batch_execute(&partitions::create(month)?).await.map_err(pg)?;
        // Dropped now rather than at commit, so another month can be replaced in this transaction.
        transaction
            .batch_execute("INSERT INTO calls SELECT * FROM kept_calls; DROP TABLE kept_calls")
            .await
            .map_err(pg)?;
    } else if held_here == walked {
        transaction
            .execute(
                &format!("DELETE FROM {partition} WHERE business_id = $1 AND NOT {kept}"),
                &[&business, &start, &end],
            )
            .await
            .map_err(pg)?;
    } else {
        tracing::warn!(
            month = %shown,
            business,
            "calls were logged into a month while it was pruned; the month is pruned again at the next pass"
        );
    }
    forget(transaction, business, (start, end), &shown).await
}

/// Forgets what walks of the business noted about `month` (from `start` to `end`).
async fn forget(
    transaction: &Transaction<'_>,
    business: i64,
    (start, end): (SystemTime, SystemTime),
    month: &str,
) -> Result<(), StoreError> {
    transaction
        .execute("DELETE FROM prune_kept WHERE business_id = $1 AND at >= $2 AND at < $3", &[&business, &start, &end])
        .await
        .map_err(pg)?;
    transaction
        .execute("DELETE FROM prune_walks WHERE business_id = $1 AND month = $2::text::date", &[&business, &month])
        .await
        .map_err(pg)
        .map(drop)
}

/// A month as PostgreSQL reads a date.
fn month_text(month: Date) -> String {
    month.to_string()
}
