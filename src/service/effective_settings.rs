//! The settings calls are decided under: the configuration file's, with the owner's choices from
//! the web page laid over them (`OwnerChoices::effective`), worked out again only when the choices
//! change, so that a call pays for them with a pointer comparison and no lock or allocation.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use jiff::Timestamp;

use super::{Service, ServiceError, invalid};
use crate::config::{Choice, OwnerChoices, SettingState, Settings};
use crate::domain::{Channel, SettingChange};
use crate::store::Change;

/// The choices last laid over this service's file settings, with the result.
#[derive(Default)]
pub(super) struct Effective(ArcSwapOption<Laid>);

struct Laid {
    choices: Arc<OwnerChoices>,
    settings: Arc<Settings>,
}

impl Effective {
    pub(super) fn over(&self, file: &Arc<Settings>, choices: &Arc<OwnerChoices>) -> Arc<Settings> {
        if let Some(laid) = &*self.0.load()
            && Arc::ptr_eq(&laid.choices, choices)
        {
            return laid.settings.clone();
        }
        let settings =
            if **choices == OwnerChoices::default() { file.clone() } else { Arc::new(choices.effective(file)) };
        self.0.store(Some(Arc::new(Laid { choices: choices.clone(), settings: settings.clone() })));
        settings
    }
}

impl Service {
    /// The settings in effect now. Before the records are read, the file's alone.
    pub fn settings(&self) -> Arc<Settings> {
        match self.current_choices() {
            Some(choices) => self.effective.over(&self.settings, &choices),
            None => self.settings.clone(),
        }
    }

    /// Every setting the owner changed from the web page. Reads the records first if they were
    /// not read.
    pub async fn owner_choices(&self) -> Result<Arc<OwnerChoices>, ServiceError> {
        self.warm_up().await?;
        Ok(self.current_choices().unwrap_or_default())
    }

    /// Changes one setting from the web page, on disk before it returns, and answers what it was
    /// before and what it is now, for the Undo. A value the file could not hold either is refused
    /// and nothing changes.
    pub async fn choose_setting(&self, choice: Choice, now: Timestamp) -> Result<Chosen, ServiceError> {
        if let Err((key, message)) = self.settings.check_choice(&choice) {
            return Err(invalid(key, &message));
        }
        let before = self.owner_choices().await?.state_of(choice.name());
        let after = SettingState { choice, changed: Some(SettingChange { by: Channel::Web, at: now }) };
        self.commit(Change::Setting(after.clone())).await?;
        Ok(Chosen { before, after })
    }

    /// Puts a setting back exactly as `chosen.before` had it: its value, and who changed it when
    /// (or that it was never changed); but only while it is still as that change left it, so that
    /// an old page's Undo never throws away a later change.
    pub async fn restore_setting(&self, chosen: Chosen) -> Result<(), ServiceError> {
        let Chosen { before, after } = chosen;
        if before.choice.name() != after.choice.name() {
            return Err(invalid("after", "is not the same setting as before"));
        }
        if let Err((key, message)) = self.settings.check_choice(&before.choice) {
            return Err(invalid(key, &message));
        }
        if self.owner_choices().await?.state_of(after.choice.name()) != after {
            return Err(ServiceError::NotFound(
                "this setting was changed again since; nothing was undone, so that the later change stays".into(),
            ));
        }
        self.commit(Change::Setting(before)).await?;
        Ok(())
    }
}

/// A setting as a change found it and as it left it: what its Undo puts back, and what the
/// setting must still be for that Undo to apply.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chosen {
    pub before: SettingState,
    pub after: SettingState,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CallerPolicy;

    #[test]
    fn the_settings_are_laid_over_again_only_when_the_choices_change() {
        let file = Arc::new(Settings::defaults());
        let effective = Effective::default();
        let none = Arc::new(OwnerChoices::default());
        assert!(Arc::ptr_eq(&effective.over(&file, &none), &file), "no choice: the file's own settings");
        let mut chosen = OwnerChoices::default();
        let changed = Some(SettingChange::default());
        chosen.put(&SettingState { choice: Choice::Withheld(Some(CallerPolicy::Refuse)), changed });
        let chosen = Arc::new(chosen);
        let first = effective.over(&file, &chosen);
        assert_eq!(first.policy.withheld, CallerPolicy::Refuse);
        assert!(Arc::ptr_eq(&effective.over(&file, &chosen), &first), "the same choices: the same settings");
        assert!(Arc::ptr_eq(&effective.over(&file, &none), &file), "back to none: the file's again");
    }
}
