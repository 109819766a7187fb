//! The owner's record: read with plain queries, changed one transaction per change.

use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;

use super::super::{Change, Publish, Removed, StoreError};
use super::values::{from_json, json, moment, time};
use super::{Tenant, follow, import, owner_changes, pg};
use crate::config::OwnerChoices;
use crate::domain::{Allow, Decline, DeclineBatch, LegalHold, PhoneNumber, SignedIn, Target, TextSession};

/// The keys of `settings`.
pub const PAUSED: &str = "paused";
/// Who last turned the pause switch on or off, and when.
pub const PAUSE_CHANGED: &str = "paused-changed";
/// The settings the owner changed from the web page, as one record.
pub const OWNER_CHOICES: &str = "owner-choices";
pub const PASSWORD: &str = "password";
pub const WEB_CHANGES: &str = "web-changes";
pub const SIGNED_IN: &str = "signed-in";
const PROBE: &str = "probe";

pub async fn decline(tenant: &Tenant, target: &Target) -> Result<Option<Decline>, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_opt(
            "SELECT record FROM declines WHERE business_id = $1 AND target = $2",
            &[&tenant.key(), &target.key()],
        )
        .await;
    row.map_err(pg)?.map(|row| from_json("a decline", row.get(0))).transpose()
}

/// Every decline (numbers first, in the order of their text, as the embedded store lists them), or
/// only those of ranges and patterns.
pub async fn declines(tenant: &Tenant, rules_only: bool) -> Result<Vec<Decline>, StoreError> {
    let connection = tenant.connection().await?;
    let text = if rules_only {
        "SELECT record FROM declines WHERE business_id = $1 AND number IS NULL ORDER BY target"
    } else {
        "SELECT record FROM declines WHERE business_id = $1 ORDER BY number IS NULL, target"
    };
    let rows = connection.query(text, &[&tenant.key()]).await.map_err(pg)?;
    rows.into_iter().map(|row| from_json("a decline", row.get(0))).collect()
}

pub async fn company_name(tenant: &Tenant, key: &str) -> Result<Option<String>, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_opt("SELECT name FROM companies WHERE business_id = $1 AND key = $2", &[&tenant.key(), &key])
        .await
        .map_err(pg)?;
    Ok(row.map(|row| row.get(0)))
}

pub async fn allow_of(tenant: &Tenant, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_opt(
            "SELECT record FROM allows WHERE business_id = $1 AND number = $2",
            &[&tenant.key(), &number.as_str()],
        )
        .await;
    row.map_err(pg)?.map(|row| from_json("an allow", row.get(0))).transpose()
}

pub async fn allows(tenant: &Tenant) -> Result<Vec<Allow>, StoreError> {
    let connection = tenant.connection().await?;
    let rows = connection
        .query("SELECT record FROM allows WHERE business_id = $1 ORDER BY number", &[&tenant.key()])
        .await
        .map_err(pg)?;
    rows.into_iter().map(|row| from_json("an allow", row.get(0))).collect()
}

pub async fn legal_holds(tenant: &Tenant) -> Result<Vec<LegalHold>, StoreError> {
    let connection = tenant.connection().await?;
    let rows = connection
        .query("SELECT party, since FROM legal_holds WHERE business_id = $1 ORDER BY party", &[&tenant.key()])
        .await
        .map_err(pg)?;
    rows.into_iter().map(|row| Ok(LegalHold { party: row.get(0), since: moment(row.get(1))? })).collect()
}

pub async fn text_session(tenant: &Tenant, owner: &PhoneNumber) -> Result<TextSession, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_opt(
            "SELECT session FROM text_sessions WHERE business_id = $1 AND owner = $2",
            &[&tenant.key(), &owner.as_str()],
        )
        .await;
    Ok(row.map_err(pg)?.map(|row| from_json("a text session", row.get(0))).transpose()?.unwrap_or_default())
}

pub async fn setting<T: DeserializeOwned>(tenant: &Tenant, key: &str) -> Result<Option<T>, StoreError> {
    let connection = tenant.connection().await?;
    read_setting(&connection, tenant.key(), key).await
}

async fn read_setting<T: DeserializeOwned>(
    client: &impl GenericClient,
    business: i64,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let row = client
        .query_opt("SELECT value FROM settings WHERE business_id = $1 AND key = $2", &[&business, &key])
        .await
        .map_err(pg)?;
    row.map(|row| from_json(key, row.get(0))).transpose()
}

async fn write_setting(
    client: &impl GenericClient,
    business: i64,
    key: &str,
    value: serde_json::Value,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO settings (business_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (business_id, key) DO UPDATE SET value = EXCLUDED.value",
            &[&business, &key, &value],
        )
        .await
        .map_err(pg)
        .map(drop)
}

/// The one place the owner's record changes: one transaction per change, taking its turn among
/// every process's changes, written to `owner_changes` with it, committed, then published while
/// the next change waits, so copies in memory follow the database's order. Other processes'
/// changes committed before it are published first, so none is overtaken. A change that fails
/// rolls back whole (its transaction is dropped uncommitted) and is not published.
pub async fn apply(tenant: &Tenant, change: &Change, publish: &Publish) -> Result<Removed, StoreError> {
    Ok(make(tenant, change, publish, false).await?.unwrap_or_default())
}

/// Spends a single-use allow (`OwnerRecord::spend_allow`): whether this call did.
pub async fn spend_allow(tenant: &Tenant, spent: Allow, publish: &Publish) -> Result<bool, StoreError> {
    Ok(make(tenant, &Change::Allow(spent), publish, true).await?.is_some())
}

/// `apply`; with `only_unspent`, an allow is saved only over one still unspent, by one statement
/// that a second spender (in any process) waits behind and then finds nothing to spend: `None`.
async fn make(
    tenant: &Tenant,
    change: &Change,
    publish: &Publish,
    only_unspent: bool,
) -> Result<Option<Removed>, StoreError> {
    let mut followed = tenant.changes.lock().await;
    let business = tenant.key();
    let mut connection = tenant.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    owner_changes::take_turn(&transaction).await?;
    let earlier = owner_changes::after(&transaction, business, *followed).await?;
    let removed = match change {
        Change::Decline(decline) => {
            import::save_declines(&transaction, business, &DeclineBatch::from_iter([decline.clone()])).await?;
            Removed::Nothing
        }
        Change::Declines(declines) => {
            import::save_declines(&transaction, business, declines).await?;
            Removed::Nothing
        }
        Change::RemoveDecline(target) => {
            let row = transaction
                .query_opt(
                    "DELETE FROM declines WHERE business_id = $1 AND target = $2 RETURNING record",
                    &[&business, &target.key()],
                )
                .await
                .map_err(pg)?;
            match row {
                Some(row) => Removed::Decline(from_json("a decline", row.get(0))?),
                None => return Ok(Some(Removed::Nothing)),
            }
        }
        Change::Allow(allow) if only_unspent => {
            let spent = transaction
                .execute(
                    "UPDATE allows SET record = $3 WHERE business_id = $1 AND number = $2 \
                     AND coalesce(record -> 'used_at', 'null'::jsonb) = 'null'::jsonb",
                    &[&business, &allow.number.as_str(), &json(allow)?],
                )
                .await
                .map_err(pg)?;
            if spent == 0 {
                return Ok(None);
            }
            Removed::Nothing
        }
        Change::Allow(allow) => {
            save_allows(&transaction, business, std::slice::from_ref(allow)).await?;
            Removed::Nothing
        }
        Change::Allows(allows) => {
            save_allows(&transaction, business, allows).await?;
            Removed::Nothing
        }
        Change::RemoveAllow(number) => {
            let row = transaction
                .query_opt(
                    "DELETE FROM allows WHERE business_id = $1 AND number = $2 RETURNING record",
                    &[&business, &number.as_str()],
                )
                .await
                .map_err(pg)?;
            match row {
                Some(row) => Removed::Allow(from_json("an allow", row.get(0))?),
                None => return Ok(Some(Removed::Nothing)),
            }
        }
        Change::Paused { paused, changed } => {
            write_setting(&transaction, business, PAUSED, json(paused)?).await?;
            write_setting(&transaction, business, PAUSE_CHANGED, json(changed)?).await?;
            Removed::Nothing
        }
        Change::Setting(state) => {
            // No other change runs meanwhile, in any process (`take_turn`), so read, change and write.
            let mut choices: OwnerChoices =
                read_setting(&transaction, business, OWNER_CHOICES).await?.unwrap_or_default();
            choices.put(state);
            write_setting(&transaction, business, OWNER_CHOICES, json(&choices)?).await?;
            Removed::Nothing
        }
        Change::LegalHold { party, since: Some(since) } => {
            transaction
                .execute(
                    "INSERT INTO legal_holds (business_id, party, since) VALUES ($1, $2, $3) \
                     ON CONFLICT (business_id, party) DO UPDATE SET since = EXCLUDED.since",
                    &[&business, party, &time(*since)],
                )
                .await
                .map_err(pg)?;
            Removed::Nothing
        }
        Change::LegalHold { party, since: None } => {
            transaction
                .execute("DELETE FROM legal_holds WHERE business_id = $1 AND party = $2", &[&business, party])
                .await
                .map_err(pg)?;
            Removed::Nothing
        }
        Change::PasswordHash(hash) => {
            write_setting(&transaction, business, PASSWORD, json(hash)?).await?;
            Removed::Nothing
        }
        Change::TextSession { owner, session } => {
            transaction
                .execute(
                    "INSERT INTO text_sessions (business_id, owner, session) VALUES ($1, $2, $3) \
                     ON CONFLICT (business_id, owner) DO UPDATE SET session = EXCLUDED.session",
                    &[&business, &owner.as_str(), &json(session)?],
                )
                .await
                .map_err(pg)?;
            Removed::Nothing
        }
        Change::WebChanges(changes) => {
            write_setting(&transaction, business, WEB_CHANGES, json(changes)?).await?;
            Removed::Nothing
        }
        Change::SignIn { .. } | Change::SignOut { .. } => {
            // No other change runs meanwhile, in any process (`take_turn`), so read, change and write.
            let browsers: Vec<SignedIn> = read_setting(&transaction, business, SIGNED_IN).await?.unwrap_or_default();
            let browsers = change.signed_in_after(browsers).unwrap_or_default();
            write_setting(&transaction, business, SIGNED_IN, json(&browsers)?).await?;
            Removed::Nothing
        }
    };
    let id = owner_changes::record(&transaction, business, change).await?;
    transaction.commit().await.map_err(pg)?;
    follow::take_in(tenant, earlier, &mut followed);
    publish.published(change);
    *followed = id;
    tenant.shared.committed.fetch_max(id, std::sync::atomic::Ordering::SeqCst);
    Ok(Some(removed))
}

async fn save_allows(client: &impl GenericClient, business: i64, allows: &[Allow]) -> Result<(), StoreError> {
    let numbers: Vec<&str> = allows.iter().map(|allow| allow.number.as_str()).collect();
    let records = allows.iter().map(json).collect::<Result<Vec<_>, _>>()?;
    // A number given twice keeps its last allow, as it would saved one at a time.
    client
        .execute(
            "INSERT INTO allows (business_id, number, record) \
             SELECT DISTINCT ON (number) $1::bigint, number, record \
             FROM unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS given (number, record, place) \
             ORDER BY number, place DESC \
             ON CONFLICT (business_id, number) DO UPDATE SET record = EXCLUDED.record",
            &[&business, &numbers, &records],
        )
        .await
        .map_err(pg)
        .map(drop)
}

/// A write that reaches the disk: PostgreSQL's commit returns once its log is synced.
pub async fn probe(tenant: &Tenant) -> Result<(), StoreError> {
    let connection = tenant.connection().await?;
    write_setting(&connection, tenant.key(), PROBE, json(&jiff::Timestamp::now())?).await.map_err(|error| match error {
        // A connection lost during the write: say which database, as a failure to connect does.
        StoreError::Unavailable(reason) => StoreError::Unavailable(format!(
            "the PostgreSQL database at {} cannot be reached: {reason}",
            tenant.shared.shown
        )),
        other => other,
    })
}
