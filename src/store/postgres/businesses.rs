//! The businesses the database serves and their lines (`Businesses`): a change to them is
//! announced, so that every process that keeps a copy of them reads them again.

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use super::super::{Answer, Businesses, BusinessesChanged, CallSink, Store, StoreError};
use super::owner_changes::{Announced, CHANNEL};
use super::values::moment;
use super::{PostgresDatabase, Shared, pg};
use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber};

const COLUMNS: &str = "id, name, settings, token_sha256, created_at";

/// Every table that holds a business's records, each by `business_id`; `lines` go with the
/// business itself.
pub(super) const RECORDS: &[&str] = &[
    "declines",
    "companies",
    "allows",
    "settings",
    "text_sessions",
    "legal_holds",
    "calls",
    "tallies",
    "follow_ups",
    "prune_walks",
    "prune_kept",
    "owner_changes",
    "owner_decisions",
];

fn read_business(row: &tokio_postgres::Row) -> Result<Business, StoreError> {
    let name: String = row.get(1);
    Ok(Business {
        id: BusinessId(row.get(0)),
        name: BusinessName::parse(&name)
            .map_err(|why| StoreError::Corrupt(format!("the business name {name:?} {why}")))?,
        settings: row.get(2),
        token_sha256: row.get(3),
        created_at: moment(row.get(4))?,
    })
}

fn read_line(row: &tokio_postgres::Row) -> Result<Line, StoreError> {
    let number: String = row.get(0);
    let number = PhoneNumber::from_e164(&number)
        .ok_or_else(|| StoreError::Corrupt(format!("the line {number:?} is not a number")))?;
    Ok(Line { number, business: BusinessId(row.get(1)) })
}

/// Announces that the businesses changed, when the transaction commits.
async fn announce(client: &impl GenericClient) -> Result<(), StoreError> {
    client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &Announced::Businesses.to_string()]).await.map_err(pg)?;
    Ok(())
}

fn is(error: &tokio_postgres::Error, state: &SqlState) -> bool {
    error.code() == Some(state)
}

async fn businesses(
    shared: &Shared,
    only: Option<BusinessId>,
    named: Option<String>,
) -> Result<Vec<Business>, StoreError> {
    let connection = shared.connection().await?;
    let rows = connection
        .query(
            &format!(
                "SELECT {COLUMNS} FROM businesses WHERE ($1::bigint IS NULL OR id = $1) \
                 AND ($2::text IS NULL OR name = $2) ORDER BY id <> {}, name",
                BusinessId::DEFAULT.0
            ),
            &[&only.map(|id| id.0), &named],
        )
        .await
        .map_err(pg)?;
    rows.iter().map(read_business).collect()
}

async fn add_business(shared: &Shared, new: super::super::NewBusiness) -> Result<Business, StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let added = transaction
        .query_one(
            &format!("INSERT INTO businesses (name, settings, token_sha256) VALUES ($1, $2, $3) RETURNING {COLUMNS}"),
            &[&new.name.as_str(), &new.settings, &new.token_sha256],
        )
        .await;
    let row = match added {
        Err(error) if is(&error, &SqlState::UNIQUE_VIOLATION) => {
            return Err(StoreError::Conflict(format!("a business named {} already exists", new.name)));
        }
        other => other.map_err(pg)?,
    };
    announce(&transaction).await?;
    transaction.commit().await.map_err(pg)?;
    read_business(&row)
}

async fn update_business(shared: &Shared, business: Business) -> Result<(), StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let changed = transaction
        .execute(
            "UPDATE businesses SET settings = $2, token_sha256 = $3 WHERE id = $1",
            &[&business.id.0, &business.settings, &business.token_sha256],
        )
        .await
        .map_err(pg)?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!("there is no business {}", business.id)));
    }
    announce(&transaction).await?;
    transaction.commit().await.map_err(pg)
}

/// Every record of the business goes in one transaction with it, its lines with it.
async fn remove_business(shared: &Shared, id: BusinessId) -> Result<Option<Business>, StoreError> {
    if id == BusinessId::DEFAULT {
        return Err(StoreError::Conflict("the default business cannot be removed".into()));
    }
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let removed = transaction
        .query_opt(&format!("DELETE FROM businesses WHERE id = $1 RETURNING {COLUMNS}"), &[&id.0])
        .await
        .map_err(pg)?;
    let Some(removed) = removed else { return Ok(None) };
    for table in RECORDS {
        transaction.execute(&format!("DELETE FROM {table} WHERE business_id = $1"), &[&id.0]).await.map_err(pg)?;
    }
    announce(&transaction).await?;
    transaction.commit().await.map_err(pg)?;
    read_business(&removed).map(Some)
}

async fn lines(shared: &Shared) -> Result<Vec<Line>, StoreError> {
    let connection = shared.connection().await?;
    let rows = connection.query("SELECT number, business_id FROM lines ORDER BY number", &[]).await.map_err(pg)?;
    rows.iter().map(read_line).collect()
}

async fn add_line(shared: &Shared, line: Line) -> Result<(), StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let added = transaction
        .execute(
            "INSERT INTO lines (number, business_id) VALUES ($1, $2) ON CONFLICT (number) DO NOTHING",
            &[&line.number.as_str(), &line.business.0],
        )
        .await;
    let added = match added {
        Err(error) if is(&error, &SqlState::FOREIGN_KEY_VIOLATION) => {
            return Err(StoreError::Conflict(format!("there is no business {}", line.business)));
        }
        other => other.map_err(pg)?,
    };
    if added == 0 {
        let row = transaction
            .query_one("SELECT business_id FROM lines WHERE number = $1", &[&line.number.as_str()])
            .await
            .map_err(pg)?;
        let owner = BusinessId(row.get(0));
        if owner != line.business {
            return Err(StoreError::Conflict(format!("{} is already a line of business {owner}", line.number)));
        }
        return Ok(());
    }
    announce(&transaction).await?;
    transaction.commit().await.map_err(pg)
}

async fn remove_line(shared: &Shared, number: PhoneNumber) -> Result<Option<Line>, StoreError> {
    let mut connection = shared.connection().await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    let row = transaction
        .query_opt("DELETE FROM lines WHERE number = $1 RETURNING number, business_id", &[&number.as_str()])
        .await
        .map_err(pg)?;
    let Some(row) = row else { return Ok(None) };
    announce(&transaction).await?;
    transaction.commit().await.map_err(pg)?;
    read_line(&row).map(Some)
}

impl Businesses for PostgresDatabase {
    fn businesses(&self) -> Answer<'_, Vec<Business>> {
        self.run(|shared| async move { businesses(&shared, None, None).await })
    }

    fn business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        self.run(move |shared| async move { Ok(businesses(&shared, Some(id), None).await?.pop()) })
    }

    fn business_named(&self, name: &BusinessName) -> Answer<'_, Option<Business>> {
        let name = name.as_str().to_owned();
        self.run(|shared| async move { Ok(businesses(&shared, None, Some(name)).await?.pop()) })
    }

    fn add_business(&self, new: super::super::NewBusiness) -> Answer<'_, Business> {
        self.run(|shared| async move { add_business(&shared, new).await })
    }

    fn update_business(&self, business: Business) -> Answer<'_, ()> {
        self.run(|shared| async move { update_business(&shared, business).await })
    }

    fn remove_business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        self.run(move |shared| async move { remove_business(&shared, id).await })
    }

    fn lines(&self) -> Answer<'_, Vec<Line>> {
        self.run(|shared| async move { lines(&shared).await })
    }

    fn add_line(&self, line: Line) -> Answer<'_, ()> {
        self.run(|shared| async move { add_line(&shared, line).await })
    }

    fn remove_line(&self, number: &PhoneNumber) -> Answer<'_, Option<Line>> {
        let number = number.clone();
        self.run(|shared| async move { remove_line(&shared, number).await })
    }

    fn store_of(&self, id: BusinessId) -> Result<std::sync::Arc<dyn Store>, StoreError> {
        Ok(std::sync::Arc::new(self.handle(id)))
    }

    fn call_sink(&self) -> Result<std::sync::Arc<dyn CallSink>, StoreError> {
        Ok(std::sync::Arc::new(self.clone()))
    }

    fn follow_businesses(&self, changed: BusinessesChanged) {
        *self.opened.shared.businesses_changed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(changed);
        self.start_following();
    }
}
