//! Changes the web page makes to records already kept: editing a decline, adding a number to a
//! company, removing a decline or an allow. Each remembers what it replaced, so that its Undo
//! (`undo_web_decline`, `undo_web_allow`) puts back exactly that.

use jiff::Timestamp;

use super::{NewDecline, Saved, Service, ServiceError, check_not_before, tidy_note};
use crate::domain::{Allow, Decline, RefusalMode, WebChange};

/// A decline's terms as the owner edits them: each value replaces what was there, and `None`
/// clears it. (Saying no again, by contrast, only adds to what was said.) What the decline covers,
/// when and by whom it was given stay: they are the evidence.
#[derive(Clone, Debug, Default)]
pub struct DeclineEdit {
    pub company: Option<String>,
    pub note: Option<String>,
    /// `None` follows the configured default.
    pub mode: Option<RefusalMode>,
    pub not_before: Option<Timestamp>,
    /// `None` follows the configuration.
    pub escape_hatch: Option<bool>,
}

impl Service {
    /// Edits the decline of `text` (a number, range or pattern, as `remove_decline` takes it).
    pub async fn edit_decline_from_web(
        &self,
        text: &str,
        edit: DeclineEdit,
        now: Timestamp,
    ) -> Result<Saved<Decline>, ServiceError> {
        let target = self.removal_target(text)?;
        let before = self
            .store
            .decline(&target)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("{target} is not declined")))?;
        let company = self.company_named(edit.company.as_deref()).await?;
        let note = tidy_note(edit.note.as_deref())?;
        // A date kept as it was may have passed (the decline lapsed then); only a new one must lie ahead.
        if edit.not_before != before.not_before {
            check_not_before(edit.not_before, now)?;
        }
        let decline = Decline {
            company,
            note,
            mode: edit.mode,
            not_before: edit.not_before,
            escape_hatch: edit.escape_hatch,
            ..before.clone()
        };
        self.put_decline(&target, Some(&decline)).await?;
        self.remember_web_change(WebChange::Declined { target, before: Some(before.clone()) }).await?;
        Ok(Saved { record: decline, created: false, before: Some(before) })
    }

    /// Declines one more number under a company already on record (`key` as its page names it).
    pub async fn add_to_company_from_web(
        &self,
        key: &str,
        mut new: NewDecline,
        now: Timestamp,
    ) -> Result<Saved<Decline>, ServiceError> {
        let timeline = self.company(key).await?;
        let Some(name) = timeline.declines.iter().find_map(|decline| decline.company.clone()) else {
            return Err(ServiceError::NotFound(format!("{key} is a number declined without a company")));
        };
        new.company = Some(name);
        self.decline_from_web(new, now).await
    }

    /// Removes a decline, and remembers it for the Undo.
    pub async fn remove_decline_from_web(&self, text: &str) -> Result<Decline, ServiceError> {
        let removed = self.remove_decline(text).await?;
        let change = WebChange::Declined { target: removed.target.clone(), before: Some(removed.clone()) };
        self.remember_web_change(change).await?;
        Ok(removed)
    }

    /// Removes an allow, and remembers it for the Undo.
    pub async fn remove_allow_from_web(&self, text: &str) -> Result<Allow, ServiceError> {
        let removed = self.remove_allow(text).await?;
        let change = WebChange::Allowed { allowed: removed.number.clone(), before: Some(removed.clone()) };
        self.remember_web_change(change).await?;
        Ok(removed)
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
    async fn an_edit_replaces_and_clears_terms_and_its_undo_puts_the_decline_back_exactly() {
        let service = service();
        let new = NewDecline {
            number: "020 7946 0123".into(),
            company: Some("Everest Windows".into()),
            note: Some("kitchen upsell".into()),
            escape_hatch: Some(true),
            ..Default::default()
        };
        let original = service.decline(new, now()).await.unwrap().record;
        let edit =
            DeclineEdit { company: Some("Rotating Ltd".into()), mode: Some(RefusalMode::Reject), ..Default::default() };
        let edited = service.edit_decline_from_web("+442079460123", edit, now()).await.unwrap().record;
        assert_eq!(edited.company.as_deref(), Some("Rotating Ltd"));
        assert_eq!((edited.note, edited.escape_hatch), (None, None), "an emptied field is cleared");
        assert_eq!(edited.declined_at, original.declined_at);
        service.undo_web_decline("+442079460123", now()).await.unwrap();
        assert_eq!(service.decline_on_record("+442079460123").await.unwrap(), Some(original));
    }

    #[tokio::test]
    async fn a_removal_s_undo_brings_back_what_it_removed() {
        let service = service();
        let new = NewDecline { number: "020 7946 0123".into(), company: Some("Everest".into()), ..Default::default() };
        let original = service.decline_from_web(new, now()).await.unwrap().record;
        service.remove_decline_from_web("+442079460123").await.unwrap();
        assert_eq!(service.decline_on_record("+442079460123").await.unwrap(), None);
        service.undo_web_decline("+442079460123", now()).await.unwrap();
        assert_eq!(service.decline_on_record("+442079460123").await.unwrap(), Some(original));
    }

    #[tokio::test]
    async fn editing_what_is_not_declined_is_not_found_and_a_past_new_date_is_refused() {
        let service = service();
        let missing = service.edit_decline_from_web("+442079460123", DeclineEdit::default(), now()).await;
        assert!(matches!(missing, Err(ServiceError::NotFound(_))));
        let new = NewDecline { number: "020 7946 0123".into(), ..Default::default() };
        service.decline(new, now()).await.unwrap();
        let past = DeclineEdit { not_before: Some("2026-11-01T00:00:00Z".parse().unwrap()), ..Default::default() };
        let refused = service.edit_decline_from_web("+442079460123", past, now()).await;
        assert!(matches!(refused, Err(ServiceError::Invalid { field: "not_before", .. })));
    }
}
