//! The call log's monthly partitions, made before the first call of their month is written.
//! Retention removes calls from them (see `prune`); an emptied partition is left in place.

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
    let mut wanted: Vec<Date> = times
        .iter()
        .map(|at| at.to_zoned_datetime(TimeZone::UTC).date().first_of_month())
        .filter(|month| !known(shared).contains(&month_number(*month)))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    wanted.sort();
    wanted.dedup();
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&PARTITION_LOCK]).await.map_err(pg)?;
    for month in &wanted {
        let next = month.checked_add(jiff::Span::new().months(1)).map_err(|e| StoreError::Backend(e.to_string()))?;
        // Names and bounds are made here from dates, never from input, so they are safe as text.
        let statement = format!(
            "CREATE TABLE IF NOT EXISTS calls_{} PARTITION OF calls FOR VALUES FROM ('{month} 00:00:00+00') TO \
             ('{next} 00:00:00+00')",
            month.strftime("%Y_%m")
        );
        transaction.batch_execute(&statement).await.map_err(pg)?;
    }
    transaction.commit().await.map_err(pg)?;
    known(shared).extend(wanted.into_iter().map(month_number));
    Ok(())
}

fn known(shared: &Shared) -> std::sync::MutexGuard<'_, std::collections::HashSet<i32>> {
    shared.months.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn month_number(month: Date) -> i32 {
    i32::from(month.year()) * 12 + i32::from(month.month())
}
