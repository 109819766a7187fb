//! The dashboard's figures: calls today, over 7 and 30 days, per day, and who calls most after a no.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::{CheckRequest, CompanySummary, Service, ServiceError};
use crate::domain::{DecisionKind, PhoneNumber};
use crate::store::RepeatCaller;

/// How many days the per-day chart covers.
pub const CHART_DAYS: i32 = 30;
/// How many companies the dashboard names.
const TOP_COMPANIES: usize = 5;
/// A number that rang through this often in the chart's days, and was never told no, is named.
const REPEAT_CALLS: u32 = 3;
/// How many such numbers the dashboard names.
const REPEAT_CALLERS: usize = 10;
/// How many weeks of calls after a no the dashboard counts, this one included.
pub const AFTER_NO_WEEKS: i32 = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    pub forwarded: u64,
    pub refused: u64,
    /// Screened, or answered outside business hours.
    pub other: u64,
}

impl Totals {
    pub fn calls(&self) -> u64 {
        self.forwarded + self.refused + self.other
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayTotals {
    /// The day in the business's time zone, `2026-11-25`.
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub forwarded: u64,
    pub refused: u64,
    pub other: u64,
}

/// The calls refused as follow-ups of a no in one week (Monday to Sunday, in the business's time
/// zone): fewer and fewer means the declined companies are giving up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WeekAfterNo {
    /// The Monday the week begins on.
    #[schema(value_type = String, format = Date)]
    pub starts: Date,
    pub calls: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub today: Totals,
    pub last_7_days: Totals,
    pub last_30_days: Totals,
    /// Oldest first, one entry per day, including days without calls.
    pub days: Vec<DayTotals>,
    /// The declined companies with the most calls since they were told no.
    pub top_companies: Vec<CompanySummary>,
    /// Numbers that keep ringing through and were never declined (nor allowed): most calls first.
    pub repeat_callers: Vec<RepeatCaller>,
    /// Calls after a no, week by week, oldest first; the last is this week so far.
    pub after_no: Vec<WeekAfterNo>,
}

impl Service {
    pub async fn dashboard(&self, now: Timestamp) -> Result<Dashboard, ServiceError> {
        let time_zone = self.settings.time_zone.clone();
        let today = now.to_zoned_datetime(time_zone.clone()).date();
        let first_day = today.checked_sub((CHART_DAYS - 1).days()).map_err(|e| internal(e.to_string()))?;
        let since = first_day.to_zoned_datetime(time_zone.clone()).map_err(|e| internal(e.to_string()))?.timestamp();
        let mut days: Vec<DayTotals> = first_day
            .series(1.day())
            .take(CHART_DAYS as usize)
            .map(|date| DayTotals { date, forwarded: 0, refused: 0, other: 0 })
            .collect();
        // Hours are counted in UTC; each is put on the local day it begins in.
        for hour in self.store.call_tallies(since, now).await? {
            let date = hour.hour.to_zoned_datetime(time_zone.clone()).date();
            if let Some(day) = days.iter_mut().find(|day| day.date == date) {
                day.forwarded += hour.forwarded;
                day.refused += hour.refused;
                day.other += hour.other;
            }
        }
        let sum = |last: usize| {
            days.iter().rev().take(last).fold(Totals::default(), |totals, day| Totals {
                forwarded: totals.forwarded + day.forwarded,
                refused: totals.refused + day.refused,
                other: totals.other + day.other,
            })
        };
        let (today, last_7_days, last_30_days) = (sum(1), sum(7), sum(CHART_DAYS as usize));
        let mut top_companies: Vec<CompanySummary> =
            self.companies().await?.into_iter().filter(|company| company.follow_ups.count > 0).collect();
        top_companies.sort_by(|a, b| b.follow_ups.count.cmp(&a.follow_ups.count).then(a.name.cmp(&b.name)));
        top_companies.truncate(TOP_COMPANIES);
        let repeat_callers = self.repeat_unknown_callers(since, now).await?;
        let after_no = self.weeks_after_no(now.to_zoned_datetime(time_zone.clone()).date()).await?;
        Ok(Dashboard { today, last_7_days, last_30_days, days, top_companies, repeat_callers, after_no })
    }

    /// The calls after a no in each of the last `AFTER_NO_WEEKS` weeks, up to the one `today` is in.
    async fn weeks_after_no(&self, today: Date) -> Result<Vec<WeekAfterNo>, ServiceError> {
        let time_zone = &self.settings.time_zone;
        let monday = today
            .checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())
            .map_err(|e| internal(e.to_string()))?;
        let start_of = |day: Date| -> Result<Timestamp, ServiceError> {
            Ok(day.to_zoned_datetime(time_zone.clone()).map_err(|e| internal(e.to_string()))?.timestamp())
        };
        let mut weeks = Vec::new();
        for back in (0..AFTER_NO_WEEKS).rev() {
            let starts = monday.checked_sub((7 * back).days()).map_err(|e| internal(e.to_string()))?;
            let ends = starts.checked_add(7.days()).map_err(|e| internal(e.to_string()))?;
            let calls = self.store.calls_after_no(start_of(starts)?, start_of(ends)?).await?;
            weeks.push(WeekAfterNo { starts, calls });
        }
        Ok(weeks)
    }

    /// The numbers that rang through again and again since `since` and whose next call would still
    /// ring through on no allow: the calls an owner has not said no to yet.
    async fn repeat_unknown_callers(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<RepeatCaller>, ServiceError> {
        // Read more than are shown, as some have been declined or allowed since.
        let candidates = self.store.repeat_callers(since, REPEAT_CALLS, REPEAT_CALLERS * 4).await?;
        let mut unknown = Vec::new();
        for caller in candidates {
            let Some(number) = PhoneNumber::from_e164(&caller.number) else { continue };
            let request = CheckRequest { number: Some(caller.number.clone()), ..Default::default() };
            let refused_now = self.check(request, now).await?.decision == DecisionKind::Decline;
            if !refused_now && self.allow_of(&number).await?.is_none() {
                unknown.push(caller);
            }
            if unknown.len() == REPEAT_CALLERS {
                break;
            }
        }
        Ok(unknown)
    }
}

fn internal(message: String) -> ServiceError {
    ServiceError::Invalid { field: "timezone", message }
}
