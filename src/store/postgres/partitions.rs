//! The call log's monthly partitions, made before the first call of their month is written.
//! Retention replaces a month's partition whole once the month is past the period (see `prune`).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::super::StoreError;
use super::{Shared, pg};

/// Held while partitions are made, so that two writers never make the same one at once.
const PARTITION_LOCK: i64 = 0x0073_6169_646e_6f70;

/// Makes the partition of each month that `times` fall in, unless this store already knows it is
/// there. Creating one locks the whole log briefly, so it happens once a month, not once a batch.
pub async fn ensure(shared: &Shared, times: &[Timestamp]) -> Result<(), StoreError> {
    let mut wanted: Vec<Date> =
        times.iter().map(|at| month_of(*at)).filter(|month| !known(shared).contains(&month_number(*month))).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    wanted.sort();
    wanted.dedup();
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&PARTITION_LOCK]).await.map_err(pg)?;
    for month in &wanted {
        transaction.batch_execute(&create(*month)?).await.map_err(pg)?;
    }
    transaction.commit().await.map_err(pg)?;
    known(shared).extend(wanted.into_iter().map(month_number));
    Ok(())
}

/// The month a call falls in (UTC), as its first day.
pub fn month_of(at: Timestamp) -> Date {
    at.to_zoned_datetime(TimeZone::UTC).date().first_of_month()
}

fn next_month(month: Date) -> Result<Date, StoreError> {
    month.checked_add(jiff::Span::new().months(1)).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The first moment of the month after `month`.
pub fn end_of(month: Date) -> Result<Timestamp, StoreError> {
    next_month(month)?
        .to_zoned_datetime(TimeZone::UTC)
        .map(|zoned| zoned.timestamp())
        .map_err(|e| StoreError::Backend(e.to_string()))
}

/// The partition of `month`.
pub fn name(month: Date) -> String {
    format!("calls_{}", month.strftime("%Y_%m"))
}

/// The statement that makes the partition of `month` unless it is there.
pub fn create(month: Date) -> Result<String, StoreError> {
    let next = next_month(month)?;
    // Names and bounds are made here from dates, never from input, so they are safe as text.
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF calls FOR VALUES FROM ('{month} 00:00:00+00') TO \
         ('{next} 00:00:00+00')",
        name(month)
    ))
}

fn known(shared: &Shared) -> std::sync::MutexGuard<'_, std::collections::HashSet<i32>> {
    shared.months.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn month_number(month: Date) -> i32 {
    i32::from(month.year()) * 12 + i32::from(month.month())
}
