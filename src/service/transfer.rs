//! Declines in and out as CSV or JSON, the call log as CSV, and a company's evidence as CSV.
//!
//! An import is checked whole before anything is saved: a file with a bad row is refused with every
//! bad row named, unless the owner asks for the good rows alone; either way the rows taken are
//! saved in one batch, so a file is never half imported, whatever stops saidno meanwhile.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{MAX_CALL_ID, MAX_COMPANY, MAX_NAME, MAX_NOTE, NewDecline, Service, ServiceError};
use crate::domain::text::tidy;
use crate::domain::{CallRecord, Channel, Decline, DeclineBatch, RefusalMode, Target, company_key};
use crate::store::CallQuery;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
}

/// A row that could not be imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// The line in the file (CSV), counting the header as line 1.
    pub line: Option<u64>,
    /// The record's place among the file's records, from 1.
    pub record: usize,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    /// Rows left out (only when importing the good rows alone was asked for).
    pub skipped: Vec<RowProblem>,
}

/// A decline as a flat row: every field is text, empty when not set. Exactly one of `number`,
/// `prefix`, `pattern` and `caller_name` says what the decline covers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct DeclineRow {
    number: String,
    prefix: String,
    pattern: String,
    caller_name: String,
    company: String,
    note: String,
    declined_at: String,
    declined_by: String,
    channel: String,
    mode: String,
    not_before: String,
    escape_hatch: String,
    on_call: String,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not a format (csv or json)")),
        }
    }
}

impl Service {
    pub async fn export_declines(&self, format: Format) -> Result<String, ServiceError> {
        let mut declines = self.store.declines().await?;
        declines.sort_by(|a, b| a.declined_at.cmp(&b.declined_at).then_with(|| a.target.key().cmp(&b.target.key())));
        match format {
            Format::Json => Ok(serde_json::to_string_pretty(&declines).expect("declines serialise") + "\n"),
            Format::Csv => csv_text(declines.iter().map(row_of)),
        }
    }

    pub async fn import_declines(
        &self,
        text: String,
        format: Format,
        good_rows_only: bool,
    ) -> Result<ImportReport, ServiceError> {
        // A million rows take seconds to read: that is done off the async workers.
        let reading = self.clone();
        let read = tokio::task::spawn_blocking(move || reading.read_declines(&text, format)).await;
        let (mut declines, problems) =
            read.map_err(|error| invalid_file(format!("the file could not be read: {error}")))??;
        if !problems.is_empty() && !good_rows_only {
            return Err(ServiceError::Rejected(problems));
        }
        // Rows of a company already on record join it under its first-written name; each
        // company is looked up once, however many rows name it.
        let named = declines.terms().iter().map(|terms| &terms.company);
        let keys: HashSet<String> =
            named.chain(declines.rules().iter().map(|rule| &rule.company)).flatten().map(|c| company_key(c)).collect();
        let mut known: HashMap<String, Option<String>> = HashMap::new();
        for key in keys {
            let name = self.store.company_name(&key).await?;
            known.insert(key, name);
        }
        declines.rename_companies(|company| known.get(&company_key(company)).cloned().flatten());
        let imported = declines.len();
        // One change, so the file lands whole or not at all.
        self.put_declines(Arc::new(declines)).await?;
        Ok(ImportReport { imported, skipped: problems })
    }

    /// Every row of a file as a decline, and the rows that are not one.
    fn read_declines(&self, text: &str, format: Format) -> Result<(DeclineBatch, Vec<RowProblem>), ServiceError> {
        let now = Timestamp::now();
        let mut declines = DeclineBatch::default();
        let mut problems = Vec::new();
        // foldhash, sized as the rows come: a million rows are a million look-ups here. Numbers
        // by their key, so a row's number is not copied a second time.
        let mut seen_numbers: foldhash::HashMap<u64, usize> = foldhash::HashMap::default();
        let mut seen_rules: HashMap<Target, usize> = HashMap::new();
        // Each row becomes its decline as it is read, so the rows are never all held at once.
        let mut take = |(record, line, row): Numbered| {
            let problem = |field: Option<&str>, message: String| RowProblem {
                line,
                record,
                field: field.map(str::to_owned),
                message,
            };
            match self.decline_of(row, now) {
                Ok(decline) => {
                    let first = match &decline.target {
                        Target::Number(number) => seen_numbers.insert(number.key(), record),
                        rule => seen_rules.insert(rule.clone(), record),
                    };
                    match first {
                        Some(first) => problems.push(problem(
                            Some("number"),
                            format!("{} appears twice (record {first} and record {record})", decline.target),
                        )),
                        None => declines.push(decline),
                    }
                }
                Err((field, message)) => problems.push(problem(Some(field), message)),
            }
        };
        match format {
            Format::Csv => csv_rows(text, &mut take)?,
            Format::Json => json_rows(text, &mut take)?,
        }
        Ok((declines, problems))
    }

    /// The call log between two moments (either open), oldest first, as CSV.
    pub async fn export_calls(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<String, ServiceError> {
        let mut calls = self.all_calls(CallQuery { since, until, ..Default::default() }).await?;
        calls.reverse();
        csv_text(calls.iter().map(CallRow::of))
    }

    /// A declined party's evidence: its declines, then every call from it since, oldest first.
    pub async fn evidence_csv(&self, key: &str) -> Result<String, ServiceError> {
        let timeline = self.company(key).await?;
        let mut rows: Vec<EvidenceRow> = timeline.declines.iter().map(EvidenceRow::decline).collect();
        rows.extend(timeline.attempts.iter().rev().map(|attempt| EvidenceRow::attempt(&attempt.call, &attempt.heard)));
        csv_text(rows.into_iter())
    }

    fn decline_of(&self, mut row: DeclineRow, now: Timestamp) -> Result<Decline, (&'static str, String)> {
        let text = |field: &'static str, value: &str, max: usize| {
            tidy(field, Some(value), max).map_err(|e| (field, e.to_string()))
        };
        let some = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        let typed = NewDecline {
            number: std::mem::take(&mut row.number),
            prefix: some(&row.prefix),
            pattern: some(&row.pattern),
            caller_name: some(&row.caller_name),
            force: true,
            ..Default::default()
        };
        let target = self.target(&typed).map_err(|error| match error {
            ServiceError::Invalid { field, message } => (field, message),
            other => ("number", other.to_string()),
        })?;
        let not_before = match row.not_before.trim() {
            "" => None,
            text => {
                Some(text.parse::<Timestamp>().map_err(|e| ("not_before", format!("{text:?} is not a time: {e}")))?)
            }
        };
        let escape_hatch = match row.escape_hatch.trim() {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            other => return Err(("escape_hatch", format!("{other:?} is not true, false or empty"))),
        };
        // Published lists of numbers have no dates: a row without one was declined now.
        let declined_at = match row.declined_at.trim() {
            "" => now,
            text => text
                .parse::<Timestamp>()
                .map_err(|e| ("declined_at", format!("{:?} is not a time (RFC 3339): {e}", row.declined_at)))?,
        };
        let channel = match row.channel.trim() {
            "" => Channel::default(),
            name => serde_json::from_value(serde_json::Value::String(name.to_owned()))
                .map_err(|_| ("channel", format!("{name:?} is not a channel (command_line, api, web, phone, text)")))?,
        };
        let mode = match row.mode.trim() {
            "" => None,
            mode => Some(mode.parse::<RefusalMode>().map_err(|e| ("mode", e))?),
        };
        Ok(Decline {
            target,
            company: text("company", &row.company, MAX_COMPANY)?,
            note: text("note", &row.note, MAX_NOTE)?,
            declined_at,
            declined_by: text("declined_by", &row.declined_by, MAX_NAME)?,
            channel,
            mode,
            not_before,
            escape_hatch,
            on_call: text("on_call", &row.on_call, MAX_CALL_ID)?,
        })
    }
}

fn row_of(decline: &Decline) -> DeclineRow {
    let (mut number, mut prefix, mut pattern, mut caller_name) = Default::default();
    match &decline.target {
        Target::Number(n) => number = n.to_string(),
        Target::Prefix(p) => prefix = p.clone(),
        Target::Pattern(p) => pattern = p.clone(),
        Target::CallerName(p) => caller_name = p.clone(),
    }
    DeclineRow {
        number,
        prefix,
        pattern,
        caller_name,
        company: decline.company.clone().unwrap_or_default(),
        note: decline.note.clone().unwrap_or_default(),
        declined_at: decline.declined_at.to_string(),
        declined_by: decline.declined_by.clone().unwrap_or_default(),
        channel: serde_json::to_value(decline.channel)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        mode: decline.mode.map(|mode| mode.to_string()).unwrap_or_default(),
        not_before: decline.not_before.map(|at| at.to_string()).unwrap_or_default(),
        escape_hatch: decline.escape_hatch.map(|on| on.to_string()).unwrap_or_default(),
        on_call: decline.on_call.clone().unwrap_or_default(),
    }
}

type Numbered = (usize, Option<u64>, DeclineRow);

fn invalid_file(message: String) -> ServiceError {
    ServiceError::Invalid { field: "file", message }
}

/// Hands each row to `take` as it is read. A row that cannot be read as CSV rejects the file,
/// with every such row listed, once all are read.
fn csv_rows(text: &str, take: &mut dyn FnMut(Numbered)) -> Result<(), ServiceError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::None).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| invalid_file(format!("the header line cannot be read: {e}")))?.clone();
    if !headers.iter().any(|header| ["number", "prefix", "pattern", "caller_name"].contains(&header)) {
        return Err(invalid_file("the header line must name a \"number\" column".into()));
    }
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = record.as_ref().ok().and_then(|r| r.position()).map(|p| p.line());
        match record.and_then(|record| record.deserialize::<DeclineRow>(Some(&headers))) {
            Ok(row) => take((index + 1, line, row)),
            Err(error) => problems.push(RowProblem {
                line: error.position().map(|p| p.line()).or(line),
                record: index + 1,
                field: None,
                message: error.to_string(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::Rejected(problems));
    }
    Ok(())
}

fn json_rows(text: &str, take: &mut dyn FnMut(Numbered)) -> Result<(), ServiceError> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        invalid_file(format!("not a JSON array of declines (line {}, column {}): {e}", e.line(), e.column()))
    })?;
    for (index, value) in values.into_iter().enumerate() {
        // JSON keeps absent fields as null and the mode as a name; the row takes text alone.
        let mut row = DeclineRow::default();
        let object = value.as_object().cloned().unwrap_or_default();
        let field = |name: &str| match object.get(name) {
            Some(serde_json::Value::Bool(on)) => on.to_string(),
            Some(value) => value.as_str().unwrap_or_default().to_owned(),
            None => String::new(),
        };
        row.number = field("number");
        row.prefix = field("prefix");
        row.pattern = field("pattern");
        row.caller_name = field("caller_name");
        row.not_before = field("not_before");
        row.escape_hatch = field("escape_hatch");
        row.on_call = field("on_call");
        row.company = field("company");
        row.note = field("note");
        row.declined_at = field("declined_at");
        row.declined_by = field("declined_by");
        row.channel = field("channel");
        row.mode = field("mode");
        take((index + 1, None, row));
    }
    Ok(())
}

fn csv_text<R: Serialize>(rows: impl Iterator<Item = R>) -> Result<String, ServiceError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut wrote = false;
    for row in rows {
        writer.serialize(row).map_err(|e| invalid_file(e.to_string()))?;
        wrote = true;
    }
    if !wrote {
        return Ok(String::new());
    }
    let bytes = writer.into_inner().map_err(|e| invalid_file(e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("CSV of strings is UTF-8"))
}

#[derive(Serialize)]
struct CallRow<'a> {
    time: String,
    #[serde(rename = "call_sid")]
    call_id: &'a str,
    from: &'a str,
    to: &'a str,
    decision: String,
    company: &'a str,
    follow_up: String,
    caller_name: &'a str,
    verstat: &'a str,
    reason: &'a str,
    heard: String,
    outcome: &'a str,
    duration_secs: String,
    recording_url: &'a str,
    transcript: &'a str,
}

impl<'a> CallRow<'a> {
    fn of(call: &'a CallRecord) -> Self {
        let outcome = call.outcome.as_ref();
        Self {
            time: call.at.to_string(),
            call_id: &call.call_id,
            from: &call.from,
            to: &call.to,
            decision: call.decision.to_string(),
            company: call.company.as_deref().unwrap_or_default(),
            follow_up: call.follow_up.map(|n| n.to_string()).unwrap_or_default(),
            caller_name: call.caller_name.as_deref().unwrap_or_default(),
            verstat: call.verification.as_deref().unwrap_or_default(),
            reason: &call.reason,
            heard: super::companies::heard(call),
            outcome: outcome.and_then(|o| o.status.as_deref()).unwrap_or_default(),
            duration_secs: outcome.and_then(|o| o.duration_secs).map(|s| s.to_string()).unwrap_or_default(),
            recording_url: outcome.and_then(|o| o.recording_url.as_deref()).unwrap_or_default(),
            transcript: outcome.and_then(|o| o.transcript.as_deref()).unwrap_or_default(),
        }
    }
}

/// One line of a company's evidence: its decline, or one call after it.
#[derive(Serialize)]
struct EvidenceRow {
    kind: &'static str,
    time: String,
    number: String,
    called: String,
    caller_name: String,
    verstat: String,
    #[serde(rename = "call_sid")]
    call_id: String,
    follow_up: String,
    heard: String,
    company: String,
    declined_by: String,
    channel: String,
    note: String,
}

impl EvidenceRow {
    fn decline(decline: &Decline) -> Self {
        let row = row_of(decline);
        Self {
            kind: "decline",
            time: row.declined_at,
            number: row.number,
            called: String::new(),
            caller_name: String::new(),
            verstat: String::new(),
            // The call the no was given on.
            call_id: row.on_call,
            follow_up: String::new(),
            heard: String::new(),
            company: row.company,
            declined_by: row.declined_by,
            channel: row.channel,
            note: row.note,
        }
    }

    fn attempt(call: &CallRecord, heard: &str) -> Self {
        Self {
            kind: "attempt",
            time: call.at.to_string(),
            number: call.from.clone(),
            called: call.to.clone(),
            caller_name: call.caller_name.clone().unwrap_or_default(),
            verstat: call.verification.clone().unwrap_or_default(),
            call_id: call.call_id.clone(),
            follow_up: call.follow_up.map(|n| n.to_string()).unwrap_or_default(),
            heard: heard.to_owned(),
            company: call.company.clone().unwrap_or_default(),
            declined_by: String::new(),
            channel: String::new(),
            note: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Settings;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_large_file_is_imported_whole_and_joins_known_companies() {
        let service = Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap();
        let known = NewDecline {
            number: "+442079460999".into(),
            company: Some("Everest Windows".into()),
            ..Default::default()
        };
        service.decline(known, Timestamp::UNIX_EPOCH).await.unwrap();
        let rows: usize = 20_005;
        let mut csv = String::from("number,company\n");
        for i in 0..rows {
            // Not in key order, so that the rows are sorted before they are written.
            let n = (i * 7919) % 1_000_000;
            csv.push_str(&format!("+44113{n:07},{}\n", if i.is_multiple_of(2) { "EVEREST  windows" } else { "" }));
        }
        let report = service.import_declines(csv, Format::Csv, false).await.unwrap();
        assert_eq!(report.imported, rows);
        let declines = service.declines().await.unwrap();
        assert_eq!(declines.len(), rows + 1);
        let everest = declines.iter().filter(|d| d.company.as_deref() == Some("Everest Windows")).count();
        assert_eq!(everest, rows.div_ceil(2) + 1);
    }
}
