//! Undo for a program on the admin API. It gives back what its change was answered (the decline
//! as the change left it, and the one it replaced), and saidno puts the replaced one back exactly,
//! but only while the decline is still as that change left it, so that an Undo never throws away
//! a later change. Nothing is remembered between the change and its Undo.

use super::{Service, ServiceError, invalid};
use crate::domain::{Decline, Target};
use crate::matcher::check_pattern;

impl Service {
    /// Puts the decline of `target` back to `before` (none, when the change made it), if it is
    /// still `after` (none, when the change removed it); answers what is now on record.
    pub async fn undo_decline_change(
        &self,
        target: &str,
        after: Option<Decline>,
        before: Option<Decline>,
    ) -> Result<Option<Decline>, ServiceError> {
        let target = self.removal_target(target.trim())?;
        // What is put back must be a decline saidno could have made: its pattern one that compiles.
        if let Target::Pattern(pattern) | Target::CallerName(pattern) = &target {
            check_pattern(pattern).map_err(|message| invalid("target", &message))?;
        }
        for (field, record) in [("after", &after), ("before", &before)] {
            if let Some(record) = record
                && record.target != target
            {
                return Err(invalid(field, &format!("is the decline of {}, not of {target}", record.target)));
            }
        }
        if self.store.decline(&target).await? != after {
            return Err(ServiceError::NotFound(format!(
                "the decline of {target} is no longer as that change left it; nothing was undone"
            )));
        }
        self.restore_decline(&target, before.clone()).await?;
        Ok(before)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;

    use super::*;
    use crate::config::Settings;
    use crate::service::NewDecline;
    use crate::store::MemoryStore;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn an_update_is_undone_to_the_record_it_replaced_and_only_once() {
        let service = Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap();
        let first = NewDecline { number: "+442079460123".into(), note: Some("kitchen".into()), ..Default::default() };
        let original = service.decline(first, now()).await.unwrap().record;
        let second = NewDecline { number: "+442079460123".into(), note: Some("again".into()), ..Default::default() };
        let updated = service.decline(second, now()).await.unwrap();
        assert_eq!(updated.before.as_ref(), Some(&original));

        let back = service.undo_decline_change("+442079460123", Some(updated.record.clone()), updated.before.clone());
        assert_eq!(back.await.unwrap(), Some(original.clone()));
        assert_eq!(service.declines().await.unwrap(), std::slice::from_ref(&original), "exactly as it was");
        let again = service.undo_decline_change("+442079460123", Some(updated.record), updated.before);
        assert!(matches!(again.await, Err(ServiceError::NotFound(_))), "a second Undo finds a later state");
        assert_eq!(service.declines().await.unwrap(), [original]);
    }
}
