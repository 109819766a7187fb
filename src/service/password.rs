//! The web page's password, set from the command line and kept only as an argon2 hash, and the
//! browsers signed in with it, kept so that a restart signs nobody out.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use jiff::Timestamp;

use super::{Service, ServiceError};
use crate::domain::SignedIn;
use crate::store::Change;

pub const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 1024;

impl Service {
    pub fn set_password(&self, password: &str) -> Result<(), ServiceError> {
        let length = password.chars().count();
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
            return Err(ServiceError::Invalid {
                field: "password",
                message: format!("must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters"),
            });
        }
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| ServiceError::Invalid { field: "password", message: e.to_string() })?;
        self.store.apply(Change::PasswordHash(&hash.to_string()))?;
        // Whoever signed in with the old password is signed out.
        self.store.apply(Change::SignOut { digest: None })?;
        Ok(())
    }

    /// Whether `password` is the one set; false when none was set, so nobody can sign in until then.
    pub fn password_matches(&self, password: &str) -> Result<bool, ServiceError> {
        let Some(stored) = self.store.password_hash()? else {
            return Ok(false);
        };
        if PasswordHash::new(&stored).is_err() {
            tracing::error!("the stored password hash cannot be read; set the password again");
            return Ok(false);
        }
        Ok(Argon2::default().verify_password(password.as_bytes(), stored.as_str()).is_ok())
    }

    pub fn has_password(&self) -> Result<bool, ServiceError> {
        Ok(self.store.password_hash()?.is_some())
    }

    /// Whether the browser whose cookie has `digest` is signed in at `now`.
    pub fn is_signed_in(&self, digest: &str, now: Timestamp) -> Result<bool, ServiceError> {
        Ok(self.store.signed_in()?.iter().any(|browser| browser.digest == digest && browser.until > now))
    }

    /// Keeps a browser signed in, on disk before it returns.
    pub fn sign_in(&self, browser: &SignedIn, now: Timestamp) -> Result<(), ServiceError> {
        self.store.apply(Change::SignIn { browser, now })?;
        Ok(())
    }

    pub fn sign_out(&self, digest: &str) -> Result<(), ServiceError> {
        self.store.apply(Change::SignOut { digest: Some(digest) })?;
        Ok(())
    }
}
