//! Opens the store the configuration names: PostgreSQL when `[store] url` is set, else the
//! embedded store under the data folder.

use std::path::Path;
use std::sync::Arc;

use super::{Answer, Businesses, PostgresDatabase, PostgresStore, Store, StoreError, open_local};
use crate::config;
use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber};

/// `StoreError::Locked` means another process, usually the running server, has the embedded store
/// open; a PostgreSQL database is shared by every process that opens it.
pub fn open_store(settings: &config::Store, local_path: &Path) -> Result<Arc<dyn Store>, StoreError> {
    match settings.url() {
        Some(url) => Ok(Arc::new(PostgresStore::open_with(url, settings.ca_file())?)),
        None => open_local(local_path, settings.cache_mb),
    }
}

/// The businesses the configured store serves: every one a PostgreSQL database holds, or the one
/// the embedded store holds, which takes no other.
pub fn open_businesses(settings: &config::Store, local_path: &Path) -> Result<Arc<dyn Businesses>, StoreError> {
    match settings.url() {
        Some(url) => Ok(PostgresDatabase::open_with(url, settings.ca_file())?.registry()),
        None => Ok(Arc::new(OneBusiness::new(open_local(local_path, settings.cache_mb)?))),
    }
}

/// Why a store of one business takes no other.
pub const ONE_BUSINESS: &str = "hosting more than one business needs a PostgreSQL store ([store] url)";

/// The registry of a store that holds one business, the default one, and takes no other.
pub struct OneBusiness {
    store: Arc<dyn Store>,
    business: Business,
}

impl OneBusiness {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let name = BusinessName::parse(BusinessName::DEFAULT).expect("the default business's name is a name");
        let business = Business {
            id: BusinessId::DEFAULT,
            name,
            settings: String::new(),
            token_sha256: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        Self { store, business }
    }

    fn refused<'a, T: Send + 'a>() -> Answer<'a, T> {
        Box::pin(std::future::ready(Err(StoreError::Conflict(ONE_BUSINESS.into()))))
    }

    fn answer<'a, T: Send + 'a>(value: T) -> Answer<'a, T> {
        Box::pin(std::future::ready(Ok(value)))
    }
}

impl Businesses for OneBusiness {
    fn businesses(&self) -> Answer<'_, Vec<Business>> {
        Self::answer(vec![self.business.clone()])
    }

    fn business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        Self::answer(Some(self.business.clone()).filter(|_| id == BusinessId::DEFAULT))
    }

    fn business_named(&self, name: &BusinessName) -> Answer<'_, Option<Business>> {
        Self::answer(Some(self.business.clone()).filter(|business| &business.name == name))
    }

    fn add_business(&self, _new: super::NewBusiness) -> Answer<'_, Business> {
        Self::refused()
    }

    fn update_business(&self, _business: Business) -> Answer<'_, ()> {
        Self::refused()
    }

    fn remove_business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        match id {
            BusinessId::DEFAULT => {
                Box::pin(std::future::ready(Err(StoreError::Conflict("the default business cannot be removed".into()))))
            }
            _ => Self::answer(None),
        }
    }

    fn lines(&self) -> Answer<'_, Vec<Line>> {
        Self::answer(Vec::new())
    }

    fn add_line(&self, _line: Line) -> Answer<'_, ()> {
        Self::refused()
    }

    fn remove_line(&self, _number: &PhoneNumber) -> Answer<'_, Option<Line>> {
        Self::answer(None)
    }

    fn store_of(&self, id: BusinessId) -> Result<Arc<dyn Store>, StoreError> {
        match id {
            BusinessId::DEFAULT => Ok(self.store.clone()),
            _ => Err(StoreError::Conflict(ONE_BUSINESS.into())),
        }
    }
}
