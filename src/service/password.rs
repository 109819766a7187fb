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
    pub async fn set_password(&self, password: &str) -> Result<(), ServiceError> {
        let length = password.chars().count();
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
            return Err(ServiceError::Invalid {
                field: "password",
                message: format!("must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters"),
            });
        }
        // Hashing is made slow on purpose: it is done off the async workers.
        let password = password.to_owned();
        let hashing = tokio::task::spawn_blocking(move || {
            Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string())
        });
        let hash = match hashing.await {
            Ok(hashed) => hashed.map_err(|e| e.to_string()),
            Err(stopped) => Err(stopped.to_string()),
        };
        let hash = hash.map_err(|message| ServiceError::Invalid { field: "password", message })?;
        self.commit(Change::PasswordHash(hash)).await?;
        // Whoever signed in with the old password is signed out.
        self.commit(Change::SignOut { digest: None }).await?;
        Ok(())
    }

    /// Whether `password` is the one set; false when none was set, so nobody can sign in until then.
    pub async fn password_matches(&self, password: &str) -> Result<bool, ServiceError> {
        let Some(stored) = self.store.password_hash().await? else {
            return Ok(false);
        };
        if PasswordHash::new(&stored).is_err() {
            tracing::error!("the stored password hash cannot be read; set the password again");
            return Ok(false);
        }
        // As slow as hashing, and done off the async workers too; one that cannot finish matches nothing.
        let password = password.to_owned();
        let verifying = tokio::task::spawn_blocking(move || {
            Argon2::default().verify_password(password.as_bytes(), stored.as_str())
        });
        Ok(verifying.await.is_ok_and(|verified| verified.is_ok()))
    }

    pub async fn has_password(&self) -> Result<bool, ServiceError> {
        Ok(self.store.password_hash().await?.is_some())
    }

    /// Whether the browser whose cookie has `digest` is signed in at `now`.
    pub async fn is_signed_in(&self, digest: &str, now: Timestamp) -> Result<bool, ServiceError> {
        Ok(self.store.signed_in().await?.iter().any(|browser| browser.digest == digest && browser.until > now))
    }

    /// Keeps a browser signed in, on disk before it returns.
    pub async fn sign_in(&self, browser: &SignedIn, now: Timestamp) -> Result<(), ServiceError> {
        self.commit(Change::SignIn { browser: browser.clone(), now }).await?;
        Ok(())
    }

    pub async fn sign_out(&self, digest: &str) -> Result<(), ServiceError> {
        self.commit(Change::SignOut { digest: Some(digest.to_owned()) }).await?;
        Ok(())
    }
}
