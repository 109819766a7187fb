//! Declines saved many at once (an import) or one at a time, the same way: rows copied in binary
//! into a staging table that lives as long as the transaction, then moved into `declines` with one
//! statement. COPY takes hundreds of thousands of rows a second where one INSERT each would not,
//! and the caller's transaction makes the whole batch land, or none of it.

use std::collections::HashSet;

use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::super::StoreError;
use super::pg;
use super::values::json;
use crate::domain::{DeclineBatch, company_key};

pub async fn save_declines(
    transaction: &Transaction<'_>,
    business: i64,
    batch: &DeclineBatch,
) -> Result<(), StoreError> {
    transaction
        .batch_execute(
            "CREATE TEMPORARY TABLE incoming_declines (
                 place bigint NOT NULL,
                 target text NOT NULL,
                 number bigint,
                 record jsonb NOT NULL
             ) ON COMMIT DROP",
        )
        .await
        .map_err(pg)?;
    let sink = transaction
        .copy_in("COPY incoming_declines (place, target, number, record) FROM STDIN (FORMAT binary)")
        .await
        .map_err(pg)?;
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::INT8, Type::JSONB]));
    for (place, decline) in batch.declines().enumerate() {
        let number = decline.target.number().map(|number| number.key() as i64);
        writer
            .as_mut()
            .write(&[&(place as i64), &decline.target.key(), &number, &json(&decline)?])
            .await
            .map_err(pg)?;
    }
    writer.finish().await.map_err(pg)?;
    // A target given twice keeps its last decline, as it would saved one at a time.
    transaction
        .execute(
            "INSERT INTO declines (business_id, target, number, record) \
             SELECT DISTINCT ON (target) $1::bigint, target, number, record FROM incoming_declines \
             ORDER BY target, place DESC \
             ON CONFLICT (business_id, target) DO UPDATE SET number = EXCLUDED.number, record = EXCLUDED.record",
            &[&business],
        )
        .await
        .map_err(pg)?;
    save_companies(transaction, business, batch).await
}

/// Keeps the name of each company the batch names for the first time, as first written in it.
async fn save_companies(transaction: &Transaction<'_>, business: i64, batch: &DeclineBatch) -> Result<(), StoreError> {
    let named = batch.terms().iter().filter_map(|terms| terms.company.as_ref());
    let named = named.chain(batch.rules().iter().filter_map(|rule| rule.company.as_ref()));
    let mut seen = HashSet::new();
    let (mut keys, mut names) = (Vec::new(), Vec::new());
    for name in named {
        let key = company_key(name);
        if seen.insert(key.clone()) {
            keys.push(key);
            names.push(name.as_str());
        }
    }
    transaction
        .execute(
            "INSERT INTO companies (business_id, key, name) \
             SELECT $1::bigint, * FROM unnest($2::text[], $3::text[]) \
             ON CONFLICT (business_id, key) DO NOTHING",
            &[&business, &keys, &names],
        )
        .await
        .map_err(pg)
        .map(drop)
}
