//! The dashboard: whether blocking is working. Cards and the chart's bars link to the calls they
//! count (the Calls page's own decision and date filters), the chart has an axis, a legend and
//! screened calls as a series of their own, and calls after a no are counted week by week.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use jiff::Timestamp;
use jiff::civil::Date;

use super::AppState;
use super::api::served;
use super::call_row::Seen;
use super::error::ApiError;
use super::pages::{CompanyRow, PageResult, paused};
use crate::domain::PhoneNumber;
use crate::service::{Dashboard, Totals};
use crate::store::RepeatCaller;

mod parts;
pub(super) use parts::parts_now;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    sections: Sections,
}

/// The template reads the sections' fields as its own, as the live parts' templates do.
impl std::ops::Deref for DashboardPage {
    type Target = Sections;

    fn deref(&self) -> &Sections {
        &self.sections
    }
}

/// Everything the Dashboard shows, worded for its templates: the page renders it whole, the live
/// Dashboard part by part.
struct Sections {
    cards: Vec<Card>,
    bars: Vec<Bar>,
    /// The value axis: each tick's height in SVG units and the calls it stands for.
    ticks: Vec<(u32, u64)>,
    first_day: String,
    chart_max: u64,
    weeks: Vec<WeekRow>,
    /// This week's calls after a no against last week's, in words.
    trend: String,
    top: Vec<CompanyRow>,
    repeats: Vec<RepeatRow>,
}

/// Calls over a stretch of days, each count linked to those calls in the log.
struct Card {
    id: &'static str,
    title: &'static str,
    totals: Totals,
    /// The log for these days: every call, the forwarded ones, the refused ones. (Screened and
    /// after-hours calls are two decisions the log filters one at a time, so they are not linked.)
    all: String,
    forwarded: String,
    refused: String,
}

impl Card {
    fn of(id: &'static str, title: &'static str, totals: Totals, first: Date, last: Date) -> Self {
        Self {
            id,
            title,
            totals,
            all: calls_link(first, last, ""),
            forwarded: calls_link(first, last, "forward"),
            refused: calls_link(first, last, "decline"),
        }
    }
}

/// Today, 7 days and 30 days, each linked to its calls.
fn cards(dashboard: &Dashboard) -> Vec<Card> {
    let today = dashboard.days.last().map(|day| day.date).unwrap_or_default();
    let day_back = |back: usize| dashboard.days.iter().rev().nth(back).map(|day| day.date).unwrap_or(today);
    vec![
        Card::of("today", "Today", dashboard.today, today, today),
        Card::of("week", "7 days", dashboard.last_7_days, day_back(6), today),
        Card::of("month", "30 days", dashboard.last_30_days, day_back(dashboard.days.len().saturating_sub(1)), today),
    ]
}

/// The Calls page over `[first, last]` (local days), narrowed to one decision when given.
fn calls_link(first: Date, last: Date, decision: &str) -> String {
    let decision = if decision.is_empty() { String::new() } else { format!("decision={decision}&") };
    format!("/calls?{decision}from_date={first}&to_date={last}")
}

/// A number that keeps ringing through and was never told no, as the dashboard names it.
struct RepeatRow {
    number: String,
    shown: String,
    /// "called 6 times in 12 days, never declined".
    summary: String,
    last_call: String,
}

impl RepeatRow {
    fn of(caller: &RepeatCaller, seen: &Seen) -> Self {
        let days = (caller.last_at.as_second() - caller.first_at.as_second()).div_euclid(86_400) + 1;
        let span = if days == 1 { "one day".to_owned() } else { format!("{days} days") };
        Self {
            number: caller.number.clone(),
            shown: PhoneNumber::from_e164(&caller.number)
                .map_or_else(|| caller.number.clone(), |number| number.as_dialled_in(seen.region)),
            summary: format!("called {} times in {span}, never declined", caller.calls),
            last_call: seen.when(caller.last_at),
        }
    }
}

/// One day of the chart, in SVG units: three stacked parts, bottom to top refused, screened (or
/// after hours), forwarded.
struct Bar {
    x: u32,
    label: String,
    link: String,
    forwarded: u64,
    refused: u64,
    other: u64,
    refused_y: u32,
    refused_height: u32,
    other_y: u32,
    other_height: u32,
    forwarded_y: u32,
    forwarded_height: u32,
}

/// One week of calls after a no, with its share of the tallest week for a bar drawn in CSS units.
struct WeekRow {
    label: String,
    calls: u64,
    /// The bar's width, 0 to 10 (tenths of the widest), as a class name (`w0` to `w10`) since the
    /// page's policy allows no inline styles.
    width: u64,
}

/// The chart's drawing area: bars stand on `BASE` and reach up to `CHART_TOP`.
const CHART_TOP: u32 = 10;
const BASE: u32 = 130;
/// Where the bars begin, right of the axis's labels.
const LEFT: u32 = 30;

pub async fn dashboard(State(state): State<AppState>) -> PageResult {
    state.call_log.written().await;
    let sections = sections_now(&state).await?;
    Ok(DashboardPage { paused: paused(&state).await, sections }.into_response())
}

/// The Dashboard's sections as the log stands now.
async fn sections_now(state: &AppState) -> Result<Sections, ApiError> {
    let dashboard: Dashboard = served(state.service.dashboard(Timestamp::now())).await?;
    Ok(sections(state, &dashboard))
}

fn sections(state: &AppState, dashboard: &Dashboard) -> Sections {
    let height = BASE - CHART_TOP;
    let chart_max = dashboard.days.iter().map(|d| d.forwarded + d.refused + d.other).max().unwrap_or(0).max(1);
    let scale = |n: u64| (n * u64::from(height) / chart_max) as u32;
    let bars = dashboard
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let (refused_height, other_height, forwarded_height) =
                (scale(day.refused), scale(day.other), scale(day.forwarded));
            let refused_y = BASE - refused_height;
            let other_y = refused_y - other_height;
            Bar {
                x: LEFT + i as u32 * 10,
                label: day.date.strftime("%-d %b").to_string(),
                link: calls_link(day.date, day.date, ""),
                forwarded: day.forwarded,
                refused: day.refused,
                other: day.other,
                refused_y,
                refused_height,
                other_y,
                other_height,
                forwarded_y: other_y - forwarded_height,
                forwarded_height,
            }
        })
        .collect();
    // Ticks at nothing, half and the tallest day; half only when it is a whole number of calls.
    let mut ticks = vec![(BASE, 0), (CHART_TOP, chart_max)];
    if chart_max >= 2 && chart_max % 2 == 0 {
        ticks.insert(1, (BASE - height / 2, chart_max / 2));
    }
    let cards = cards(dashboard);
    let widest = dashboard.after_no.iter().map(|week| week.calls).max().unwrap_or(0).max(1);
    let weeks = dashboard
        .after_no
        .iter()
        .enumerate()
        .map(|(i, week)| WeekRow {
            label: if i + 1 == dashboard.after_no.len() {
                "this week".to_owned()
            } else {
                format!("week of {}", week.starts.strftime("%-d %b"))
            },
            calls: week.calls,
            width: (week.calls * 10).div_ceil(widest),
        })
        .collect();
    let trend = trend(dashboard);
    let top = dashboard.top_companies.iter().map(|c| CompanyRow::of(c, &state.settings.time_zone)).collect();
    let seen = Seen::now(state.settings.region, &state.settings.time_zone);
    let repeats = dashboard.repeat_callers.iter().map(|caller| RepeatRow::of(caller, &seen)).collect();
    let first_day = dashboard.days.first().map(|day| day.date.strftime("%-d %b").to_string()).unwrap_or_default();
    Sections { cards, bars, ticks, first_day, chart_max, weeks, trend, top, repeats }
}

/// Last full week against the one before it: the answer to "is it working".
fn trend(dashboard: &Dashboard) -> String {
    let weeks = &dashboard.after_no;
    let (Some(last), Some(before)) = (weeks.iter().rev().nth(1), weeks.iter().rev().nth(2)) else {
        return String::new();
    };
    let calls = |n: u64| if n == 1 { "1 call".to_owned() } else { format!("{n} calls") };
    match last.calls.cmp(&before.calls) {
        _ if last.calls == 0 && before.calls == 0 => "No calls after a no in the last two full weeks.".to_owned(),
        std::cmp::Ordering::Less => {
            format!("Down: {} after a no last week, {} the week before.", calls(last.calls), calls(before.calls))
        }
        std::cmp::Ordering::Equal => format!("Level: {} after a no last week, as the week before.", calls(last.calls)),
        std::cmp::Ordering::Greater => {
            format!("Up: {} after a no last week, {} the week before.", calls(last.calls), calls(before.calls))
        }
    }
}
