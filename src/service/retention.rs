//! The call log's retention period and legal holds: calls older than the period leave the log,
//! except those of a party under a legal hold, which stay whatever their age.

use std::collections::HashSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Service, ServiceError};
use crate::domain::{CallRecord, party_key};
use crate::store::{Change, Cursor, PRUNE_BATCH, Pruned, party_of};

/// A party's legal hold as the admin API reads and writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalHoldState {
    /// The party's key: `company:everest windows` or `number:+442079460123`.
    pub key: String,
    /// While true, none of the party's calls is pruned from the log, however old.
    pub held: bool,
    /// When the hold was placed.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
}

/// The calls a legal hold covers: those refused on behalf of a held party, and every call from a
/// number declined under it (the same calls the party's page shows).
struct Held {
    parties: HashSet<String>,
    numbers: HashSet<String>,
}

impl Held {
    fn covers(&self, call: &CallRecord) -> bool {
        self.numbers.contains(&call.from) || party_of(call).is_some_and(|party| self.parties.contains(&party))
    }
}

impl Service {
    /// Places or lifts the legal hold on a declined party; a hold already placed keeps its date.
    pub async fn set_legal_hold(&self, key: &str, held: bool, now: Timestamp) -> Result<LegalHoldState, ServiceError> {
        // One at a time with pruning, so no batch prunes by holds that have just changed.
        let _holding = self.holding.lock().await;
        let current = self.store.legal_holds().await?.into_iter().find(|hold| hold.party == key);
        // A hold stays on a party whose declines were removed since, and can still be lifted there.
        if current.is_none() && !self.store.declines().await?.iter().any(|decline| decline.party() == key) {
            return Err(ServiceError::NotFound(format!("no declined company or number {key:?}")));
        }
        let since = match (held, current) {
            (true, Some(hold)) => Some(hold.since),
            (true, None) => {
                self.commit(Change::LegalHold { party: key.to_owned(), since: Some(now) }).await?;
                Some(now)
            }
            (false, Some(_)) => {
                self.commit(Change::LegalHold { party: key.to_owned(), since: None }).await?;
                None
            }
            (false, None) => None,
        };
        Ok(LegalHoldState { key: key.to_owned(), held, since })
    }

    /// The party a legal hold is about, as the owner types it: a declined company's name or one of
    /// its numbers, or the name of a company still held after its declines were removed.
    pub async fn hold_party_for(&self, company_or_number: &str) -> Result<String, ServiceError> {
        let not_declined = match self.party_for(company_or_number).await {
            Ok(party) => return Ok(party),
            Err(error) => error,
        };
        let by_name = party_key(Some(company_or_number), "");
        let held = self.store.legal_holds().await?.into_iter().find(|hold| hold.party == by_name);
        held.map(|hold| hold.party).ok_or(not_declined)
    }

    /// The parties under a legal hold.
    pub async fn legal_holds(&self) -> Result<Vec<LegalHoldState>, ServiceError> {
        let holds = self.store.legal_holds().await?;
        Ok(holds
            .into_iter()
            .map(|hold| LegalHoldState { key: hold.party, held: true, since: Some(hold.since) })
            .collect())
    }

    /// One bounded batch of pruning the calls logged before `before`, continuing after `after`.
    pub async fn prune_calls(&self, before: Timestamp, after: Option<Cursor>) -> Result<Pruned, ServiceError> {
        let _holding = self.holding.lock().await;
        let parties: HashSet<String> = self.store.legal_holds().await?.into_iter().map(|hold| hold.party).collect();
        let numbers = match parties.is_empty() {
            true => HashSet::new(),
            false => self
                .store
                .declines()
                .await?
                .into_iter()
                .filter(|decline| parties.contains(&decline.party()))
                .filter_map(|decline| decline.target.number().map(|number| number.as_str().to_owned()))
                .collect(),
        };
        let held = Held { parties, numbers };
        Ok(self.store.prune_calls(before, Box::new(move |call| held.covers(call)), after, PRUNE_BATCH).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Settings;
    use crate::domain::DecisionKind;
    use crate::service::NewDecline;
    use crate::store::{CallQuery, MemoryStore};

    fn service() -> Service {
        Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    async fn decline(service: &Service, number: &str, company: &str) {
        let new = NewDecline { number: number.into(), company: Some(company.into()), ..Default::default() };
        service.decline(new, at("2019-01-01T00:00:00Z")).await.unwrap();
    }

    fn call(sid: &str, from: &str, party: Option<&str>) -> CallRecord {
        let decision = if party.is_some() { DecisionKind::Decline } else { DecisionKind::Forward };
        CallRecord {
            call_id: sid.into(),
            from: from.into(),
            at: at("2020-01-01T10:00:00Z"),
            decision,
            party: party.map(str::to_owned),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_hold_keeps_the_companys_refusals_and_every_call_from_its_numbers() {
        let service = service();
        decline(&service, "+442079460123", "Everest").await;
        service
            .store
            .append_calls(&[
                call("CA-allowed-through", "+442079460123", None),
                call("CA-refused-elsewhere", "+442079460124", Some("company:everest")),
                call("CA-someone-else", "+442079460555", None),
            ])
            .unwrap();
        let placed = service.set_legal_hold("company:everest", true, at("2026-11-25T10:00:00Z")).await.unwrap();
        assert_eq!(placed.since, Some(at("2026-11-25T10:00:00Z")));

        let pruned = service.prune_calls(at("2025-01-01T00:00:00Z"), None).await.unwrap();
        assert_eq!((pruned.calls, pruned.kept, pruned.next), (1, 2, None));
        let left: Vec<String> = service
            .calls(CallQuery { limit: 10, ..Default::default() })
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.call_id)
            .collect();
        assert_eq!(left, ["CA-refused-elsewhere", "CA-allowed-through"]);
    }

    #[tokio::test]
    async fn a_hold_outlives_the_companys_declines_and_is_lifted_by_its_name() {
        let service = service();
        decline(&service, "+442079460123", "Everest").await;
        service.set_legal_hold("company:everest", true, at("2026-11-25T10:00:00Z")).await.unwrap();
        service.remove_decline("+442079460123").await.unwrap();
        let party = service.hold_party_for("EVEREST").await.unwrap();
        let lifted = service.set_legal_hold(&party, false, at("2026-11-26T10:00:00Z")).await.unwrap();
        assert_eq!((lifted.held, lifted.since), (false, None));
        assert!(service.legal_holds().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_party_that_was_never_declined_cannot_be_held_and_nothing_changes() {
        let service = service();
        let error = service.set_legal_hold("company:nobody", true, at("2026-11-25T10:00:00Z")).await.unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error}");
        assert!(matches!(service.hold_party_for("Nobody").await, Err(ServiceError::NotFound(_))));
        assert!(service.legal_holds().await.unwrap().is_empty());
    }
}
