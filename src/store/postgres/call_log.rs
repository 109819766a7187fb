//! Writing the call log: each batch of calls in one transaction, with the hourly counts and the
//! follow-up counts it carries, as the embedded store's log keeps them (`sled/call_db.rs`).

use std::collections::HashMap;
use std::time::SystemTime;

use jiff::Timestamp;

use super::super::query::{decision_code, hour_of, hours_before, party_of};
use super::super::{HourTally, StoreError};
use super::values::{from_json, json, moment, time};
use super::{Shared, Tenant, partitions, pg};
use crate::domain::{BusinessId, CallRecord, DecisionKind, FollowUps, ForwardOutcome};

/// The columns of `calls`, in the order `call_pages::read_call` reads them.
pub const COLUMNS: &str = "at, id, call_id, caller, called, decision, reason, company, caller_name, verification, \
                           outcome, follow_up, party, flagged, used_single_allow, heard, business_id";

/// Logs a batch of calls in one transaction, numbered in order of arrival: all under `business`
/// when it is given, else each under its own (`CallRecord::business`).
pub async fn append(shared: &Shared, calls: &[CallRecord], business: Option<BusinessId>) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    partitions::ensure(shared, &calls.iter().map(|call| call.at).collect::<Vec<_>>()).await?;
    let businesses: Vec<i64> = calls.iter().map(|call| business.unwrap_or(call.business).0).collect();
    let mut tallies: HashMap<(i64, i64), HourTally> = HashMap::new();
    let mut follow_ups: HashMap<(i64, &str), FollowUps> = HashMap::new();
    for (call, business) in calls.iter().zip(&businesses) {
        tallies.entry((*business, hour_of(call.at))).or_default().count(call.decision);
        if let (Some(party), Some(follow_up)) = (&call.party, call.follow_up.filter(|_| call.is_refusal())) {
            follow_ups.entry((*business, party)).or_default().numbered(follow_up, call.at);
        }
    }
    let columns = Columns::of(calls)?;
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    // Every statement is prepared once per connection: planning one again for every batch cost the
    // server more than a batch of a few calls costs it to write.
    let prepared = |text: &str| {
        let text = text.to_owned();
        let transaction = &transaction;
        async move { transaction.prepare_cached(&text).await.map_err(pg) }
    };
    // The numbers come from one sequence, taken in order, so a batch's calls keep their order.
    let ids: Vec<i64> = transaction
        .query(
            &prepared("SELECT nextval('call_ids') FROM generate_series(1, $1::bigint) ORDER BY 1").await?,
            &[&(calls.len() as i64)],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    transaction
        .execute(
            &prepared(&format!(
                "INSERT INTO calls ({COLUMNS}) SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], \
                 $4::text[], $5::text[], $6::smallint[], $7::text[], $8::text[], $9::text[], $10::text[], \
                 $11::jsonb[], $12::bigint[], $13::text[], $14::boolean[], $15::boolean[], $16::text[], $17::bigint[])"
            ))
            .await?,
            &[
                &columns.at,
                &ids,
                &columns.call_id,
                &columns.caller,
                &columns.called,
                &columns.decision,
                &columns.reason,
                &columns.company,
                &columns.caller_name,
                &columns.verification,
                &columns.outcome,
                &columns.follow_up,
                &columns.party,
                &columns.flagged,
                &columns.used_single_allow,
                &columns.heard,
                &businesses,
            ],
        )
        .await
        .map_err(pg)?;
    let (keys, counts): (Vec<(i64, i64)>, Vec<[i64; 3]>) = tallies
        .into_iter()
        .map(|(key, tally)| (key, [tally.forwarded as i64, tally.refused as i64, tally.other as i64]))
        .unzip();
    let (tallied, hours): (Vec<i64>, Vec<i64>) = keys.into_iter().unzip();
    let column = |i: usize| counts.iter().map(|count| count[i]).collect::<Vec<i64>>();
    transaction
        .execute(
            &prepared(
                "INSERT INTO tallies AS kept (business_id, hour, forwarded, refused, other) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) \
                 ON CONFLICT (business_id, hour) DO UPDATE SET forwarded = kept.forwarded + EXCLUDED.forwarded, \
                 refused = kept.refused + EXCLUDED.refused, other = kept.other + EXCLUDED.other",
            )
            .await?,
            &[&tallied, &hours, &column(0), &column(1), &column(2)],
        )
        .await
        .map_err(pg)?;
    add_follow_ups(&transaction, follow_ups).await?;
    transaction.commit().await.map_err(pg)
}

/// Merges each party's counts into what is kept, as `FollowUps::numbered` merges them: the highest
/// count, the earliest first call and the latest last one.
async fn add_follow_ups(
    transaction: &deadpool_postgres::Transaction<'_>,
    follow_ups: HashMap<(i64, &str), FollowUps>,
) -> Result<(), StoreError> {
    let keys: Vec<(i64, &str)> = follow_ups.keys().copied().collect();
    let businesses: Vec<i64> = keys.iter().map(|(business, _)| *business).collect();
    let parties: Vec<&str> = keys.iter().map(|(_, party)| *party).collect();
    let counts: Vec<i64> = keys.iter().map(|key| i64::from(follow_ups[key].count)).collect();
    let first: Vec<Option<SystemTime>> = keys.iter().map(|key| follow_ups[key].first_at.map(time)).collect();
    let last: Vec<Option<SystemTime>> = keys.iter().map(|key| follow_ups[key].last_at.map(time)).collect();
    let statement = transaction
        .prepare_cached(
            "INSERT INTO follow_ups AS kept (business_id, party, count, first_at, last_at) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[]) \
             ON CONFLICT (business_id, party) DO UPDATE SET count = greatest(kept.count, EXCLUDED.count), \
             first_at = least(kept.first_at, EXCLUDED.first_at), last_at = greatest(kept.last_at, EXCLUDED.last_at), \
             counted_at = now()",
        )
        .await
        .map_err(pg)?;
    transaction.execute(&statement, &[&businesses, &parties, &counts, &first, &last]).await.map_err(pg).map(drop)
}

/// A batch's calls, column by column, for one `unnest`.
struct Columns<'a> {
    at: Vec<SystemTime>,
    call_id: Vec<&'a str>,
    caller: Vec<&'a str>,
    called: Vec<&'a str>,
    decision: Vec<i16>,
    reason: Vec<&'a str>,
    company: Vec<Option<&'a str>>,
    caller_name: Vec<Option<&'a str>>,
    verification: Vec<Option<&'a str>>,
    outcome: Vec<Option<serde_json::Value>>,
    follow_up: Vec<Option<i64>>,
    party: Vec<Option<String>>,
    flagged: Vec<bool>,
    used_single_allow: Vec<bool>,
    heard: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(calls: &'a [CallRecord]) -> Result<Self, StoreError> {
        Ok(Self {
            at: calls.iter().map(|call| time(call.at)).collect(),
            call_id: calls.iter().map(|call| call.call_id.as_str()).collect(),
            caller: calls.iter().map(|call| call.from.as_str()).collect(),
            called: calls.iter().map(|call| call.to.as_str()).collect(),
            decision: calls.iter().map(|call| decision_code(call.decision)).collect(),
            reason: calls.iter().map(|call| call.reason.as_str()).collect(),
            company: calls.iter().map(|call| call.company.as_deref()).collect(),
            caller_name: calls.iter().map(|call| call.caller_name.as_deref()).collect(),
            verification: calls.iter().map(|call| call.verification.as_deref()).collect(),
            outcome: calls.iter().map(|call| call.outcome.as_ref().map(json).transpose()).collect::<Result<_, _>>()?,
            follow_up: calls.iter().map(|call| call.follow_up.map(i64::from)).collect(),
            // Calls logged before the party was kept count toward their company's.
            party: calls.iter().map(party_of).collect(),
            flagged: calls.iter().map(|call| call.flagged).collect(),
            used_single_allow: calls.iter().map(|call| call.used_single_allow).collect(),
            heard: calls.iter().map(|call| call.heard.as_deref()).collect(),
        })
    }
}

/// Adds what the provider reported after each call to the latest call of its business with its
/// id, in one transaction; false for a call that is not in the log.
pub async fn attach_outcomes(
    shared: &Shared,
    outcomes: &[(BusinessId, String, ForwardOutcome)],
) -> Result<Vec<bool>, StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let mut attached = Vec::with_capacity(outcomes.len());
    for (business, call_id, outcome) in outcomes {
        let found = transaction
            .query_opt(
                "SELECT at, id, outcome FROM calls WHERE business_id = $1 AND call_id = $2 \
                 ORDER BY at DESC, id DESC LIMIT 1 FOR UPDATE",
                &[&business.0, call_id],
            )
            .await
            .map_err(pg)?;
        let Some(row) = found else {
            attached.push(false);
            continue;
        };
        let mut merged: ForwardOutcome = match row.get::<_, Option<serde_json::Value>>(2) {
            Some(stored) => from_json("a call's outcome", stored)?,
            None => ForwardOutcome::default(),
        };
        merged.merge(outcome.clone());
        let (at, id): (SystemTime, i64) = (row.get(0), row.get(1));
        transaction
            .execute(
                "UPDATE calls SET outcome = $1 WHERE business_id = $2 AND at = $3 AND id = $4",
                &[&json(&merged)?, &business.0, &at, &id],
            )
            .await
            .map_err(pg)?;
        attached.push(true);
    }
    transaction.commit().await.map_err(pg)?;
    Ok(attached)
}

/// Calls per hour for the hours that begin in `[since, until)`.
pub async fn tallies(tenant: &Tenant, since: Timestamp, until: Timestamp) -> Result<Vec<HourTally>, StoreError> {
    let connection = tenant.connection().await?;
    let rows = connection
        .query(
            "SELECT hour, forwarded, refused, other FROM tallies WHERE business_id = $1 AND hour >= $2 AND hour < $3 \
             ORDER BY hour",
            &[&tenant.key(), &hour_of(since), &hours_before(until)],
        )
        .await
        .map_err(pg)?;
    rows.iter()
        .map(|row| {
            let hour = Timestamp::from_second(row.get::<_, i64>(0) * 3600)
                .map_err(|e| StoreError::Corrupt(format!("an hourly count's hour: {e}")))?;
            let count = |i: usize| row.get::<_, i64>(i) as u64;
            Ok(HourTally { hour, forwarded: count(1), refused: count(2), other: count(3) })
        })
        .collect()
}

/// As `CallHistory::calls_after_no` describes it, along the index of decisions.
pub async fn calls_after_no(tenant: &Tenant, since: Timestamp, until: Timestamp) -> Result<u64, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_one(
            "SELECT count(*) FROM calls WHERE business_id = $1 AND decision = $2 AND at >= $3 AND at < $4 \
             AND party IS NOT NULL AND follow_up IS NOT NULL",
            &[&tenant.key(), &decision_code(DecisionKind::Decline), &time(since), &time(until)],
        )
        .await
        .map_err(pg)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// One party's follow-ups, or every party's.
pub async fn follow_ups(tenant: &Tenant, party: Option<&str>) -> Result<Vec<(String, FollowUps)>, StoreError> {
    let connection = tenant.connection().await?;
    let rows = connection
        .query(
            "SELECT party, count, first_at, last_at FROM follow_ups \
             WHERE business_id = $1 AND ($2::text IS NULL OR party = $2)",
            &[&tenant.key(), &party],
        )
        .await
        .map_err(pg)?;
    rows.iter().map(|row| read_follow_ups(row, 0)).collect()
}

/// The parties, of every business, whose follow-ups were counted in the last `within` (by the
/// database's clock), or every party's with `None`; each with its business.
pub async fn follow_ups_counted(
    shared: &Shared,
    within: Option<std::time::Duration>,
) -> Result<Vec<(i64, String, FollowUps)>, StoreError> {
    let connection = shared.connection().await?;
    let seconds = within.map(|within| within.as_secs_f64());
    let rows = connection
        .query(
            "SELECT business_id, party, count, first_at, last_at FROM follow_ups \
             WHERE $1::float8 IS NULL OR counted_at > now() - make_interval(secs => $1::float8)",
            &[&seconds],
        )
        .await
        .map_err(pg)?;
    rows.iter().map(|row| read_follow_ups(row, 1).map(|(party, counts)| (row.get(0), party, counts))).collect()
}

/// A party's follow-ups: its party, count, first and last call, in the columns from `first`.
fn read_follow_ups(row: &tokio_postgres::Row, first: usize) -> Result<(String, FollowUps), StoreError> {
    let at = |i: usize| row.get::<_, Option<SystemTime>>(first + i).map(moment).transpose();
    let count = u32::try_from(row.get::<_, i64>(first + 1)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((row.get(first), FollowUps { count, first_at: at(2)?, last_at: at(3)? }))
}
