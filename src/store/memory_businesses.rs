//! Businesses and lines kept in memory, each business with a memory store of its own: for tests
//! of what the operator does, with the same contract as the stores on disk.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;

use super::{Answer, Businesses, MemoryStore, NewBusiness, Store, StoreError, ready};
use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber};

pub struct MemoryBusinesses {
    inner: RwLock<Inner>,
}

struct Inner {
    businesses: BTreeMap<BusinessId, (Business, Arc<MemoryStore>)>,
    lines: BTreeMap<PhoneNumber, BusinessId>,
    next_id: i64,
}

impl MemoryBusinesses {
    /// The default business alone, on `default_store`.
    pub fn new(default_store: Arc<MemoryStore>) -> Self {
        let default = Business {
            id: BusinessId::DEFAULT,
            name: BusinessName::parse(BusinessName::DEFAULT).expect("the default name is a name"),
            settings: String::new(),
            token_sha256: None,
            created_at: Timestamp::now(),
        };
        let businesses = BTreeMap::from([(BusinessId::DEFAULT, (default, default_store))]);
        Self { inner: RwLock::new(Inner { businesses, lines: BTreeMap::new(), next_id: BusinessId::DEFAULT.0 + 1 }) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Businesses for MemoryBusinesses {
    fn businesses(&self) -> Answer<'_, Vec<Business>> {
        let mut all: Vec<Business> = self.read().businesses.values().map(|(business, _)| business.clone()).collect();
        all.sort_by(|a, b| (a.id != BusinessId::DEFAULT, &a.name).cmp(&(b.id != BusinessId::DEFAULT, &b.name)));
        ready(Ok(all))
    }

    fn business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        ready(Ok(self.read().businesses.get(&id).map(|(business, _)| business.clone())))
    }

    fn business_named(&self, name: &BusinessName) -> Answer<'_, Option<Business>> {
        let inner = self.read();
        ready(Ok(inner.businesses.values().map(|(business, _)| business).find(|b| &b.name == name).cloned()))
    }

    fn add_business(&self, new: NewBusiness) -> Answer<'_, Business> {
        let mut inner = self.write();
        if inner.businesses.values().any(|(business, _)| business.name == new.name) {
            return ready(Err(StoreError::Conflict(format!("there is already a business called {}", new.name))));
        }
        let id = BusinessId(inner.next_id);
        inner.next_id += 1;
        let business = Business {
            id,
            name: new.name,
            settings: new.settings,
            token_sha256: new.token_sha256,
            created_at: Timestamp::now(),
        };
        inner.businesses.insert(id, (business.clone(), Arc::default()));
        ready(Ok(business))
    }

    fn update_business(&self, business: Business) -> Answer<'_, ()> {
        let mut inner = self.write();
        let Some((kept, _)) = inner.businesses.get_mut(&business.id) else {
            return ready(Err(StoreError::Conflict(format!("there is no business {}", business.id))));
        };
        kept.settings = business.settings;
        kept.token_sha256 = business.token_sha256;
        ready(Ok(()))
    }

    fn remove_business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        if id == BusinessId::DEFAULT {
            return ready(Err(StoreError::Conflict("the default business cannot be removed".into())));
        }
        let mut inner = self.write();
        inner.lines.retain(|_, business| *business != id);
        ready(Ok(inner.businesses.remove(&id).map(|(business, _)| business)))
    }

    fn lines(&self) -> Answer<'_, Vec<Line>> {
        let inner = self.read();
        let lines = inner.lines.iter().map(|(number, business)| Line { number: number.clone(), business: *business });
        ready(Ok(lines.collect()))
    }

    fn add_line(&self, line: Line) -> Answer<'_, ()> {
        let mut inner = self.write();
        if !inner.businesses.contains_key(&line.business) {
            return ready(Err(StoreError::Conflict(format!("there is no business {}", line.business))));
        }
        match inner.lines.get(&line.number) {
            Some(business) if *business != line.business => {
                ready(Err(StoreError::Conflict(format!("{} is another business's line", line.number.as_str()))))
            }
            _ => {
                inner.lines.insert(line.number, line.business);
                ready(Ok(()))
            }
        }
    }

    fn remove_line(&self, number: &PhoneNumber) -> Answer<'_, Option<Line>> {
        let removed = self.write().lines.remove(number);
        ready(Ok(removed.map(|business| Line { number: number.clone(), business })))
    }

    fn store_of(&self, id: BusinessId) -> Result<Arc<dyn Store>, StoreError> {
        match self.read().businesses.get(&id) {
            Some((_, store)) => Ok(store.clone()),
            None => Err(StoreError::Unavailable(format!("there is no business {id}"))),
        }
    }
}
