//! The Dashboard's parts that change with the calls, each by the template the page includes, for
//! the live Dashboard to put in place of what the page shows.

use askama::Template;

use super::{Bar, Card, RepeatRow, Sections, WeekRow, sections_now};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::pages::CompanyRow;

/// The cards alone, by the template the page includes.
#[derive(Template)]
#[template(path = "dashboard_cards.html")]
struct CardsPart {
    cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "dashboard_after_no.html")]
struct AfterNoPart {
    weeks: Vec<WeekRow>,
    trend: String,
}

#[derive(Template)]
#[template(path = "dashboard_chart.html")]
struct ChartPart {
    bars: Vec<Bar>,
    ticks: Vec<(u32, u64)>,
    first_day: String,
    chart_max: u64,
}

#[derive(Template)]
#[template(path = "dashboard_top.html")]
struct TopPart {
    top: Vec<CompanyRow>,
}

#[derive(Template)]
#[template(path = "dashboard_repeats.html")]
struct RepeatsPart {
    repeats: Vec<RepeatRow>,
}

/// Each part of the Dashboard that changes with the calls, named as the page marks it
/// (`data-part`), with its markup as the log stands now, by the templates the page includes.
pub async fn parts_now(state: &AppState) -> Result<Vec<(&'static str, String)>, ApiError> {
    let Sections { cards, bars, ticks, first_day, chart_max, weeks, trend, top, repeats } = sections_now(state).await?;
    let rendered = [
        ("cards", CardsPart { cards }.render()),
        ("after-no", AfterNoPart { weeks, trend }.render()),
        ("chart", ChartPart { bars, ticks, first_day, chart_max }.render()),
        ("top", TopPart { top }.render()),
        ("repeats", RepeatsPart { repeats }.render()),
    ];
    rendered.into_iter().map(|(name, markup)| Ok((name, markup?))).collect::<Result<_, askama::Error>>().map_err(
        |error| {
            tracing::error!(%error, "could not render the dashboard's parts");
            ApiError::Internal
        },
    )
}
