//! Reading the call log: pages newest first along an index for each filter, and the numbers that
//! ring again and again. What each filter means is `CallQuery::matches`; the SQL only narrows the
//! rows read to those, and every row is checked against it.

use std::time::SystemTime;

use futures_util::StreamExt;
use jiff::Timestamp;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::super::query::{COMPANY, PageFill, decision_code, decision_of, like_escaped};
use super::super::{CallPage, CallQuery, Cursor, RepeatCaller, SCAN_BUDGET, StoreError};
use super::call_log::COLUMNS;
use super::values::{from_json, moment, time};
use super::{Tenant, pg};
use crate::domain::{BusinessId, CallRecord, DecisionKind};

/// The conditions of a page's query, with the values they are bound to.
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Filter {
    /// Adds a condition; each `?` in it takes the next value.
    fn and(&mut self, condition: &str, values: Vec<Box<dyn ToSql + Sync + Send>>) {
        let mut numbered = String::new();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                numbered.push_str(&format!("${}", self.values.len() + i));
            }
            numbered.push_str(part);
        }
        self.conditions.push(numbered);
        self.values.extend(values);
    }
}

/// One page of the log, newest first. The number, party, decision and time filters are answered by
/// an index; a search is checked call by call, at most `SCAN_BUDGET` of them.
pub async fn page(tenant: &Tenant, query: &CallQuery) -> Result<CallPage, StoreError> {
    let mut filter = Filter::default();
    filter.and("business_id = ?", vec![Box::new(tenant.key())]);
    if let Some(number) = &query.number {
        filter.and("caller = ?", vec![Box::new(number.clone())]);
    }
    if let Some(digits) = &query.number_ending {
        filter.and("caller LIKE ? ESCAPE '\\'", vec![Box::new(format!("%{}", like_escaped(digits)))]);
    }
    if let Some(party) = &query.party {
        filter.and("party = ?", vec![Box::new(party.clone())]);
    }
    if let Some(part) = query.company_part() {
        filter.and("party LIKE ? ESCAPE '\\'", vec![Box::new(format!("{COMPANY}%{}%", like_escaped(&part)))]);
    }
    if let Some(decision) = query.decision() {
        filter.and("decision = ?", vec![Box::new(decision_code(decision))]);
    }
    if let Some(since) = query.since {
        filter.and("at >= ?", vec![Box::new(time(since))]);
    }
    if let Some(until) = query.until {
        filter.and("at < ?", vec![Box::new(time(until))]);
    }
    if let Some(before) = query.before {
        let (at, id) = before.parts();
        let at = Timestamp::from_microsecond(at).map_err(|e| StoreError::Corrupt(format!("a cursor's time: {e}")))?;
        filter.and("(at, id) < (?, ?)", vec![Box::new(time(at)), Box::new(id)]);
    }
    let Filter { conditions, values } = filter;
    let text = format!(
        "SELECT {COLUMNS} FROM calls WHERE {} ORDER BY at DESC, id DESC LIMIT {SCAN_BUDGET}",
        conditions.join(" AND "),
    );
    let connection = tenant.connection().await?;
    let statement = connection.prepare_cached(&text).await.map_err(pg)?;
    let rows = connection.query_raw(&statement, values.iter().map(|value| &**value as &dyn ToSql)).await;
    let mut rows = std::pin::pin!(rows.map_err(pg)?);
    let mut fill = PageFill::new(query);
    while let Some(row) = rows.next().await {
        let (position, call) = read_call(&row.map_err(pg)?)?;
        if !fill.take(position, &call) {
            break;
        }
    }
    Ok(fill.page())
}

/// As `CallHistory::repeat_callers` describes it: the newest calls, grouped by number.
pub async fn repeat_callers(
    tenant: &Tenant,
    since: Timestamp,
    min_calls: u32,
    limit: usize,
) -> Result<Vec<RepeatCaller>, StoreError> {
    let connection = tenant.connection().await?;
    let rows = connection
        .query(
            &format!(
                "SELECT caller, count(*), min(at), max(at) FROM (
                     SELECT caller, at FROM calls
                     WHERE business_id = $5 AND at >= $1 AND decision <> $2 AND caller LIKE '+%'
                     ORDER BY at DESC LIMIT {SCAN_BUDGET}) AS newest
                 GROUP BY caller HAVING count(*) >= $3 ORDER BY count(*) DESC, max(at) DESC LIMIT $4"
            ),
            &[
                &time(since),
                &decision_code(DecisionKind::Decline),
                &i64::from(min_calls),
                &(limit as i64),
                &tenant.key(),
            ],
        )
        .await
        .map_err(pg)?;
    rows.iter()
        .map(|row| {
            let calls = u32::try_from(row.get::<_, i64>(1)).unwrap_or(u32::MAX);
            Ok(RepeatCaller { number: row.get(0), calls, first_at: moment(row.get(2))?, last_at: moment(row.get(3))? })
        })
        .collect()
}

/// A row of `COLUMNS`, with its position in the log; the call carries its business.
pub fn read_call(row: &Row) -> Result<(Cursor, CallRecord), StoreError> {
    let at = moment(row.try_get::<_, SystemTime>(0).map_err(pg)?)?;
    let id: i64 = row.try_get(1).map_err(pg)?;
    let outcome: Option<serde_json::Value> = row.try_get(10).map_err(pg)?;
    let follow_up: Option<i64> = row.try_get(11).map_err(pg)?;
    let call = CallRecord {
        call_id: row.try_get(2).map_err(pg)?,
        from: row.try_get(3).map_err(pg)?,
        to: row.try_get(4).map_err(pg)?,
        at,
        decision: decision_of(i64::from(row.try_get::<_, i16>(5).map_err(pg)?))?,
        reason: row.try_get(6).map_err(pg)?,
        company: row.try_get(7).map_err(pg)?,
        caller_name: row.try_get(8).map_err(pg)?,
        verification: row.try_get(9).map_err(pg)?,
        outcome: outcome.map(|value| from_json("a call's outcome", value)).transpose()?,
        follow_up: follow_up.map(u32::try_from).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        party: row.try_get(12).map_err(pg)?,
        flagged: row.try_get(13).map_err(pg)?,
        used_single_allow: row.try_get(14).map_err(pg)?,
        heard: row.try_get(15).map_err(pg)?,
        business: BusinessId(row.try_get(16).map_err(pg)?),
    };
    Ok((Cursor::new(at, id as u64), call))
}
