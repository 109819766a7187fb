//! Companies as the owner thinks of them: every number declined under one name, what was said, and
//! every call since.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Service, ServiceError};
use crate::domain::{CallRecord, Decline, FollowUps, company_key, party_key};
use crate::store::CallQuery;

/// One declined party: a company with all its numbers, or a single number declined without a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompanySummary {
    /// The party's key (`company:everest windows` or `number:+442079460123`), used in its address.
    pub key: String,
    /// The company's name as first written, or the number.
    pub name: String,
    pub numbers: Vec<String>,
    /// When it was first told no.
    #[schema(value_type = String, format = DateTime)]
    pub declined_at: Timestamp,
    pub declined_by: Option<String>,
    pub follow_ups: FollowUps,
    /// It has called as often as the escalation ladder's flagging step: a case for a complaint.
    #[serde(default)]
    pub flagged_for_complaint: bool,
    /// When a legal hold was placed on it: while one is on, none of its calls leaves the log.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub legal_hold_since: Option<Timestamp>,
}

/// A company's page: its declines, then every call from it since it was first told no.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompanyTimeline {
    pub company: CompanySummary,
    pub declines: Vec<Decline>,
    /// Newest first.
    pub attempts: Vec<Attempt>,
}

/// One call from a declined party after the decline, with what it heard.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub call: CallRecord,
    /// What the caller heard, in words.
    pub heard: String,
}

impl Service {
    /// Whether the calls since the no reached a ladder step that flags the company for a complaint.
    fn flagged(&self, follow_ups: &FollowUps) -> bool {
        self.settings.policy.escalation.steps.iter().any(|step| step.flag && step.from_call <= follow_ups.count)
    }

    /// Every declined party, the most recently active first.
    pub async fn companies(&self) -> Result<Vec<CompanySummary>, ServiceError> {
        let mut declines = self.store.declines().await?;
        let holds: HashMap<String, Timestamp> =
            self.store.legal_holds().await?.into_iter().map(|hold| (hold.party, hold.since)).collect();
        declines.sort_by_key(|decline| (decline.party(), decline.declined_at));
        let mut companies: Vec<CompanySummary> = Vec::new();
        for decline in declines {
            let party = decline.party();
            match companies.last_mut() {
                Some(company) if company.key == party => company.numbers.push(decline.target.to_string()),
                _ => companies.push(CompanySummary {
                    name: decline.company.clone().unwrap_or_else(|| decline.target.to_string()),
                    numbers: vec![decline.target.to_string()],
                    declined_at: decline.declined_at,
                    declined_by: decline.declined_by.clone(),
                    follow_ups: self.store.follow_ups(&party).await?,
                    flagged_for_complaint: false,
                    legal_hold_since: holds.get(&party).copied(),
                    key: party,
                }),
            }
        }
        for company in &mut companies {
            company.flagged_for_complaint = self.flagged(&company.follow_ups);
        }
        companies.sort_by(|a, b| {
            (b.follow_ups.last_at, b.declined_at).cmp(&(a.follow_ups.last_at, a.declined_at)).then(a.name.cmp(&b.name))
        });
        Ok(companies)
    }

    /// Company names on record, for suggestions when declining.
    pub async fn company_names(&self) -> Result<Vec<String>, ServiceError> {
        let mut names: Vec<String> = self.store.declines().await?.into_iter().filter_map(|d| d.company).collect();
        names.sort_by_key(|name| company_key(name));
        names.dedup_by_key(|name| company_key(name));
        Ok(names)
    }

    /// The party's declines and every call from it since, newest first.
    pub async fn company(&self, key: &str) -> Result<CompanyTimeline, ServiceError> {
        let declines: Vec<Decline> = self.store.declines().await?.into_iter().filter(|d| d.party() == key).collect();
        let Some(first) = declines.iter().min_by_key(|d| d.declined_at) else {
            return Err(ServiceError::NotFound(format!("no declined company or number {key:?}")));
        };
        let company = CompanySummary {
            key: key.to_owned(),
            name: first.company.clone().unwrap_or_else(|| first.target.to_string()),
            numbers: declines.iter().map(|d| d.target.to_string()).collect(),
            declined_at: first.declined_at,
            declined_by: first.declined_by.clone(),
            follow_ups: self.store.follow_ups(key).await?,
            flagged_for_complaint: false,
            legal_hold_since: self
                .store
                .legal_holds()
                .await?
                .into_iter()
                .find(|hold| hold.party == key)
                .map(|hold| hold.since),
        };
        let company = CompanySummary { flagged_for_complaint: self.flagged(&company.follow_ups), ..company };
        // Refusals name their party; calls from its numbers after their decline count too (say,
        // one that an allow let through), so both indexes are read and merged.
        let by_party = CallQuery { party: Some(key.to_owned()), since: Some(first.declined_at), ..Default::default() };
        let mut calls = self.all_calls(by_party).await?;
        for decline in &declines {
            let Some(number) = decline.target.number() else { continue };
            let by_number =
                CallQuery { number: Some(number.to_string()), since: Some(decline.declined_at), ..Default::default() };
            calls.extend(self.all_calls(by_number).await?);
        }
        calls.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.call_id.cmp(&a.call_id)));
        calls.dedup_by(|a, b| a.call_id == b.call_id);
        let attempts = calls.into_iter().map(|call| Attempt { heard: heard(&call), call }).collect();
        Ok(CompanyTimeline { company, declines, attempts })
    }

    /// The party key for a company name or a declined number, as the owner would type either.
    pub async fn party_for(&self, company_or_number: &str) -> Result<String, ServiceError> {
        let declines = self.store.declines().await?;
        let by_name = party_key(Some(company_or_number), "");
        if declines.iter().any(|decline| decline.party() == by_name) {
            return Ok(by_name);
        }
        if let Ok(number) = self.typed_number(company_or_number, true)
            && let Some(decline) = declines.iter().find(|decline| decline.target.number() == Some(&number))
        {
            return Ok(decline.party());
        }
        Err(ServiceError::NotFound(format!("no declined company or number {company_or_number:?}")))
    }
}

/// What a logged call heard; calls logged before this was recorded are described from their decision.
pub fn heard(call: &CallRecord) -> String {
    call.heard.clone().unwrap_or_else(|| match call.is_refusal() {
        true => "the refusal".to_owned(),
        false => "forwarded to your phones".to_owned(),
    })
}
