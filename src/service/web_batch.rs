//! Declining several numbers of the log in one action from the web page, and its one Undo. The
//! declines are saved as one batch (all of them, or none), each merged with the decline on record
//! exactly as a single decline is, and the change is remembered with what each replaced.

use std::sync::Arc;

use jiff::Timestamp;

use super::{NewDecline, Service, ServiceError, invalid};
use crate::domain::{Channel, Decline, DeclineBatch, DeclinedBefore, PhoneNumber, Target, WebChange};

/// The most numbers one action declines: every number one page of the log can show.
pub const MAX_AT_ONCE: usize = 50;

/// The declines one action saved, and the name its Undo goes by.
#[derive(Clone, Debug)]
pub struct BatchDeclined {
    pub batch: String,
    pub declined: Vec<Decline>,
}

impl Service {
    /// Declines each of `numbers` (as the log gives them) with the same company and note, in one
    /// change. Refused whole, with nothing saved, when none is given, too many are, or any is not
    /// a number.
    pub async fn decline_several_from_web(
        &self,
        numbers: &[String],
        company: &str,
        note: &str,
        now: Timestamp,
    ) -> Result<BatchDeclined, ServiceError> {
        let mut unique: Vec<&str> = Vec::new();
        for number in numbers.iter().map(|number| number.trim()) {
            if PhoneNumber::from_e164(number).is_none() {
                return Err(invalid("number", &format!("{number:?} is not a number from the log")));
            }
            if !unique.contains(&number) {
                unique.push(number);
            }
        }
        if unique.is_empty() {
            return Err(invalid("number", "select at least one call whose number to decline"));
        }
        if unique.len() > MAX_AT_ONCE {
            return Err(invalid(
                "number",
                &format!("decline at most {MAX_AT_ONCE} numbers at once, not {}", unique.len()),
            ));
        }
        let mut batch = DeclineBatch::default();
        let mut declined = Vec::new();
        let mut befores = Vec::new();
        for number in unique {
            let new = NewDecline {
                number: number.to_owned(),
                company: Some(company.to_owned()),
                note: Some(note.to_owned()),
                force: true,
                channel: Some(Channel::Web),
                ..Default::default()
            };
            let saved = self.decline_to_save(new, now).await?;
            befores.push(DeclinedBefore { target: saved.record.target.clone(), before: saved.before });
            batch.push(saved.record.clone());
            declined.push(saved.record);
        }
        self.put_declines(Arc::new(batch)).await?;
        let name = now.as_nanosecond().to_string();
        self.remember_web_change(WebChange::DeclinedTogether { batch: name.clone(), declined: befores }).await?;
        Ok(BatchDeclined { batch: name, declined })
    }

    /// The targets of the web page's change of several named `batch`, and what each had before,
    /// while its Undo is still to be had.
    pub async fn web_batch(&self, batch: &str) -> Result<Option<Vec<DeclinedBefore>>, ServiceError> {
        Ok(self.store.web_changes().await?.into_iter().find_map(|change| match change {
            WebChange::DeclinedTogether { batch: name, declined } if name == batch => Some(declined),
            _ => None,
        }))
    }

    /// Undoes a change of several: each decline it replaced is back as it was, each it added is
    /// gone. The change is forgotten only once every one is restored, so an Undo cut short can be
    /// pressed again. Answers the targets put back.
    pub async fn undo_web_batch(&self, batch: &str) -> Result<Vec<Target>, ServiceError> {
        let Some(declined) = self.web_batch(batch).await? else {
            return Err(ServiceError::NotFound("there is no decline of these numbers from this page to undo".into()));
        };
        let replaced: DeclineBatch = declined.iter().filter_map(|entry| entry.before.clone()).collect();
        self.put_declines(Arc::new(replaced)).await?;
        for entry in declined.iter().filter(|entry| entry.before.is_none()) {
            self.restore_decline(&entry.target, None).await?;
        }
        let mut changes = self.store.web_changes().await?;
        changes.retain(|change| !matches!(change, WebChange::DeclinedTogether { batch: name, .. } if name == batch));
        self.commit(crate::store::Change::WebChanges(changes)).await?;
        Ok(declined.into_iter().map(|entry| entry.target).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Settings;
    use crate::store::MemoryStore;

    fn service() -> Service {
        Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn several_are_declined_at_once_and_their_undo_restores_each_exactly() {
        let service = service();
        let old = NewDecline { number: "+442079460123".into(), note: Some("kitchen".into()), ..Default::default() };
        let original = service.decline(old, now()).await.unwrap().record;
        let numbers = ["+442079460123", "+442079460124", "+442079460124"].map(String::from);
        let saved = service.decline_several_from_web(&numbers, "Rotating Ltd", "", now()).await.unwrap();
        assert_eq!(saved.declined.len(), 2, "a number selected twice is declined once");
        let kept = service.decline_on_record("+442079460123").await.unwrap().unwrap();
        assert_eq!((kept.company.as_deref(), kept.note.as_deref()), (Some("Rotating Ltd"), Some("kitchen")));
        service.undo_web_batch(&saved.batch).await.unwrap();
        assert_eq!(service.decline_on_record("+442079460123").await.unwrap(), Some(original));
        assert_eq!(service.decline_on_record("+442079460124").await.unwrap(), None);
        assert!(matches!(service.undo_web_batch(&saved.batch).await, Err(ServiceError::NotFound(_))));
    }

    #[tokio::test]
    async fn none_too_many_or_a_bad_number_is_refused_and_nothing_is_saved() {
        let service = service();
        let many: Vec<String> = (0..=MAX_AT_ONCE).map(|n| format!("+4420794{n:05}")).collect();
        for numbers in [vec![], many, vec!["+442079460123".into(), "+44207946*".into()]] {
            let refused = service.decline_several_from_web(&numbers, "Rotating Ltd", "", now()).await;
            assert!(matches!(refused, Err(ServiceError::Invalid { field: "number", .. })), "{refused:?}");
        }
        assert!(service.declines().await.unwrap().is_empty());
    }
}
