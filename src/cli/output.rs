//! What the command line prints: short sentences for changes, aligned tables for lists, JSON on request.

use serde::Serialize;

use crate::config::Settings;
use crate::domain::{Allow, CallRecord, Decline};
use crate::policy::{short_date, short_time};
use crate::service::{DeclineEntry, ImportReport, LegalHoldState, Preview, RowProblem, Saved};

pub fn declined(saved: &Saved<Decline>, settings: &Settings) {
    let decline = &saved.record;
    let who = decline.company.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    let date = short_date(decline.declined_at, &settings.time_zone);
    if saved.created {
        println!("Declined {}{who} on {date}. Their next call will be refused.", decline.target);
    } else {
        println!("Updated the decline of {}{who}, first declined on {date}.", decline.target);
    }
}

pub fn decline_removed(decline: &Decline) {
    println!("Removed the decline of {}. Calls from it will ring through.", decline.target);
}

pub fn allowed(saved: &Saved<Allow>, settings: &Settings) {
    let allow = &saved.record;
    let who = allow.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let verb = if saved.created { "Allowed" } else { "Updated" };
    let when = if allow.is_timed() { window(allow, settings) } else { "always".to_owned() };
    println!("{verb} {}{who}: calls from it ring through {when}.", allow.number);
}

/// "from 24 Nov 14:00 until 24 Nov 16:00, once".
fn window(allow: &Allow, settings: &Settings) -> String {
    let mut parts = Vec::new();
    if let Some(from) = allow.from {
        parts.push(format!("from {}", short_time(from, &settings.time_zone)));
    }
    if let Some(until) = allow.until {
        parts.push(format!("until {}", short_time(until, &settings.time_zone)));
    }
    if allow.once {
        parts.push(match allow.used_at {
            Some(used) => format!("once (used {})", short_time(used, &settings.time_zone)),
            None => "once".to_owned(),
        });
    }
    parts.join(" ")
}

pub fn paused(paused: bool) {
    if paused {
        println!("Paused: every call rings through until `saidno resume`.");
    } else {
        println!("Resumed: declines, hours and screening apply again.");
    }
}

pub fn allow_removed(allow: &Allow) {
    println!("Removed {} from the allow list.", allow.number);
}

pub fn legal_hold(company: &str, state: &LegalHoldState, settings: &Settings) {
    match state.since {
        Some(since) => println!(
            "Legal hold on {company} since {}: its calls stay in the log whatever their age.",
            short_date(since, &settings.time_zone)
        ),
        None => println!("No legal hold on {company}: its calls leave the log once past the retention period."),
    }
}

pub fn legal_holds(holds: &[LegalHoldState], json: bool, settings: &Settings) {
    if json {
        return print_json(holds);
    }
    if holds.is_empty() {
        return println!("No legal holds. Place one with: saidno legal-hold add COMPANY");
    }
    let rows = holds.iter().map(|hold| {
        vec![hold.key.clone(), hold.since.map_or_else(|| "-".to_owned(), |at| short_date(at, &settings.time_zone))]
    });
    print_table(&["HELD", "SINCE"], rows);
}

pub fn imported(report: &ImportReport) {
    println!("Imported {} decline(s).", report.imported);
    for row in &report.skipped {
        let place = row.line.map_or_else(|| format!("record {}", row.record), |line| format!("line {line}"));
        let field = row.field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default();
        println!("Skipped {place}: {field}{}", row.message);
    }
}

pub fn declines(declines: &[DeclineEntry], json: bool, settings: &Settings) {
    if json {
        return print_json(declines);
    }
    if declines.is_empty() {
        return println!("No declines yet. Add one with: saidno decline add NUMBER --company NAME");
    }
    let when = |at: Option<jiff::Timestamp>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| at.to_zoned_datetime(settings.time_zone.clone()).strftime("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let rows = declines.iter().map(|entry| {
        let d = &entry.decline;
        vec![
            d.target.to_string(),
            text(&d.company),
            short_date(d.declined_at, &settings.time_zone),
            text(&d.declined_by),
            d.mode.map_or_else(|| format!("{} (default)", settings.refusal.mode), |m| m.to_string()),
            d.not_before.map_or_else(
                || "for good".to_owned(),
                |date| format!("until {}", short_date(date, &settings.time_zone)),
            ),
            entry.follow_ups.count.to_string(),
            when(entry.follow_ups.first_at),
            when(entry.follow_ups.last_at),
            text(&d.note),
        ]
    });
    print_table(&["DECLINED", "COMPANY", "ON", "BY", "REFUSAL", "HOLDS", "CALLS SINCE", "FIRST", "LAST", "NOTE"], rows);
}

pub fn allows(allows: &[Allow], json: bool, settings: &Settings) {
    if json {
        return print_json(allows);
    }
    if allows.is_empty() {
        return println!("No allowed numbers. Add one with: saidno allow add NUMBER --name NAME");
    }
    let rows = allows.iter().map(|a| {
        let when = if a.is_timed() { window(a, settings) } else { "always".to_owned() };
        vec![a.number.to_string(), text(&a.name), when, short_date(a.added_at, &settings.time_zone)]
    });
    print_table(&["NUMBER", "NAME", "RINGS THROUGH", "ADDED"], rows);
}

pub fn calls(calls: &[CallRecord], json: bool, settings: &Settings) {
    if json {
        return print_json(calls);
    }
    if calls.is_empty() {
        return println!("No calls logged.");
    }
    let rows = calls.iter().map(|call| {
        let at = call.at.to_zoned_datetime(settings.time_zone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
        let outcome = call.outcome.as_ref().map(|o| {
            let mut parts: Vec<String> = o.status.iter().cloned().collect();
            if o.recording_url.is_some() {
                parts.push("voicemail".into());
            }
            parts.join(", ")
        });
        let follow_up = call.follow_up.map(|n| format!("#{n}"));
        vec![
            at,
            call.from.clone(),
            text(&call.company),
            text(&follow_up),
            call.decision.to_string(),
            call.reason.clone(),
            text(&outcome),
        ]
    });
    print_table(&["TIME", "FROM", "COMPANY", "SINCE NO", "DECISION", "WHY", "OUTCOME"], rows);
}

pub fn preview(preview: &Preview) {
    println!("{}: {}", preview.number, preview.decision);
    println!("  why: {}", preview.reason);
    println!("  the caller hears: {}", preview.caller_hears);
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".into())
}

fn print_json<T: Serialize + ?Sized>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("records serialise"));
}

fn print_table(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
/// Every bad row of an import, one a line.
pub fn rejected_rows(rows: &[RowProblem]) -> String {
    let mut text = format!("{} row(s) are not valid declines; nothing was imported:", rows.len());
    for row in rows {
        let place = row.line.map_or_else(|| format!("record {}", row.record), |line| format!("line {line}"));
        let field = row.field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default();
        text.push_str(&format!("\n  {place}: {field}{}", row.message));
    }
    text
}
