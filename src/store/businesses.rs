//! The businesses a deployment serves and their lines: the one role that spans businesses. Every
//! other role is of one business, got from `store_of`, and reads and writes nothing of another's.

use std::sync::Arc;

use super::{Answer, CallSink, Store, StoreError};
use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber};

/// A business as the operator adds it; the store gives it its id and the time.
#[derive(Clone, Debug)]
pub struct NewBusiness {
    pub name: BusinessName,
    pub settings: String,
    pub token_sha256: Option<String>,
}

/// Told that another process added, changed or removed a business or a line.
pub type BusinessesChanged = Arc<dyn Fn() + Send + Sync>;

pub trait Businesses: Send + Sync {
    /// Every business, the default one first, then by name.
    fn businesses(&self) -> Answer<'_, Vec<Business>>;
    fn business(&self, id: BusinessId) -> Answer<'_, Option<Business>>;
    fn business_named(&self, name: &BusinessName) -> Answer<'_, Option<Business>>;
    /// Adds a business with no records; `StoreError::Conflict` when the name is taken.
    fn add_business(&self, new: NewBusiness) -> Answer<'_, Business>;
    /// Replaces a business's settings and token (its id, name and creation stay).
    /// `StoreError::Conflict` when there is no such business.
    fn update_business(&self, business: Business) -> Answer<'_, ()>;
    /// Removes a business with its lines and every record it has, in one step; the default
    /// business cannot be removed (`StoreError::Conflict`). `None` when there was no such business.
    fn remove_business(&self, id: BusinessId) -> Answer<'_, Option<Business>>;
    /// Every line, by number.
    fn lines(&self) -> Answer<'_, Vec<Line>>;
    /// Makes `line.number` bring calls to `line.business`; `StoreError::Conflict` when the number
    /// is already another business's line (adding a business's own line again changes nothing).
    fn add_line(&self, line: Line) -> Answer<'_, ()>;
    fn remove_line(&self, number: &PhoneNumber) -> Answer<'_, Option<Line>>;
    /// The store of one business: its owner record, call log and call facts, with nothing of any
    /// other business's. Cheap: handles share the one database and its connections.
    fn store_of(&self, id: BusinessId) -> Result<Arc<dyn Store>, StoreError>;
    /// The call log of every business at once, for a process's one writer: each call is written
    /// under its `CallRecord::business`, each outcome under its business. The default suits a
    /// store of one business.
    fn call_sink(&self) -> Result<Arc<dyn CallSink>, StoreError> {
        Ok(self.store_of(BusinessId::DEFAULT)?)
    }
    /// Tells `changed` whenever another process changes the businesses or their lines, so that a
    /// copy of them kept in memory can be read again. Only a store several processes share has
    /// any; calling it again replaces `changed`.
    fn follow_businesses(&self, _changed: BusinessesChanged) {}
}
