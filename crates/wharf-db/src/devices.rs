//! RFC 8628 device authorization requests, in the database so that a code
//! issued by one instance can be approved on another and redeemed on a third.

use crate::error::repo_error;
use crate::{rows, tokens, Database};
use async_trait::async_trait;
use wharf_core::model::{
    DeviceCaps, DeviceInsert, DeviceRequest, NewAuditEvent, NewDeviceRequest, NewToken, TokenRecord,
};
use wharf_core::ports::{DeviceRepo, RepoError};
use wharf_core::Timestamp;

/// Expired requests are kept this long (so a late poll still hears
/// `expired_token` rather than "unknown"), then forgotten.
const KEEP_EXPIRED_MICROS: i64 = 24 * 3600 * 1_000_000;

#[async_trait]
impl DeviceRepo for Database {
    async fn create_device_request(
        &self,
        request: NewDeviceRequest,
        caps: DeviceCaps,
    ) -> Result<DeviceInsert, RepoError> {
        let _guard = self.writer().await;
        let mut tx = self.pool.begin().await.map_err(repo_error)?;
        sqlx::query("DELETE FROM device_codes WHERE expires_at < $1")
            .bind(request.created_at.micros() - KEEP_EXPIRED_MICROS)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        // The cap checks and the insert are one statement. Under PostgreSQL's
        // read committed, concurrent inserts may overshoot by a few: the caps
        // bound the store's growth, they are not exact quotas.
        let inserted = sqlx::query(
            "INSERT INTO device_codes
                 (device_code_hash, user_code, requester, scopes, status, interval_secs, created_at, expires_at)
             SELECT $1, $2, $3, $4, 'pending', $5, $6, $7
             WHERE (SELECT COUNT(*) FROM device_codes WHERE status = 'pending' AND expires_at > $6) < $8
               AND (SELECT COUNT(*) FROM device_codes
                    WHERE requester = $3 AND status = 'pending' AND expires_at > $6) < $9",
        )
        .bind(&request.device_code_hash)
        .bind(&request.user_code)
        .bind(&request.requester)
        .bind(request.scopes.to_string())
        .bind(request.interval_secs)
        .bind(request.created_at.micros())
        .bind(request.expires_at.micros())
        .bind(caps.total)
        .bind(caps.per_requester)
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?
        .rows_affected()
            == 1;
        let outcome = if inserted {
            DeviceInsert::Created
        } else {
            let (mine,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM device_codes
                 WHERE requester = $1 AND status = 'pending' AND expires_at > $2",
            )
            .bind(&request.requester)
            .bind(request.created_at.micros())
            .fetch_one(&mut *tx)
            .await
            .map_err(repo_error)?;
            if mine >= caps.per_requester {
                DeviceInsert::RequesterFull
            } else {
                DeviceInsert::StoreFull
            }
        };
        tx.commit().await.map_err(repo_error)?;
        Ok(outcome)
    }

    async fn find_device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceRequest>, RepoError> {
        find(self, "user_code", user_code).await
    }

    async fn find_device_by_code_hash(
        &self,
        device_code_hash: &str,
    ) -> Result<Option<DeviceRequest>, RepoError> {
        find(self, "device_code_hash", device_code_hash).await
    }

    async fn decide_device_request(
        &self,
        id: i64,
        user_id: i64,
        approve: bool,
        event: NewAuditEvent,
    ) -> Result<bool, RepoError> {
        let status = if approve { "approved" } else { "denied" };
        let decide = sqlx::query(
            "UPDATE device_codes SET status = $1, user_id = $2
             WHERE id = $3 AND status = 'pending' AND expires_at > $4",
        )
        .bind(status)
        .bind(user_id)
        .bind(id)
        .bind(event.at.micros());
        self.audited_change(decide, &event).await
    }

    async fn record_device_poll(
        &self,
        id: i64,
        at: Timestamp,
        interval_secs: i64,
    ) -> Result<(), RepoError> {
        let _guard = self.writer().await;
        sqlx::query(
            "UPDATE device_codes SET last_polled_at = $1, interval_secs = $2 WHERE id = $3",
        )
        .bind(at.micros())
        .bind(interval_secs)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(repo_error)?;
        Ok(())
    }

    async fn redeem_device_request(
        &self,
        id: i64,
        token: NewToken,
        event: NewAuditEvent,
    ) -> Result<Option<TokenRecord>, RepoError> {
        let mut tx = self.begin_audited().await?;
        // The status flip is the single-use guard: of two concurrent polls,
        // only one changes the row, and only that one mints a token.
        let flipped = sqlx::query(
            "UPDATE device_codes SET status = 'redeemed' WHERE id = $1 AND status = 'approved'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(repo_error)?
        .rows_affected()
            == 1;
        if !flipped {
            return Ok(None);
        }
        let record = tokens::insert(&mut tx, &token).await?;
        sqlx::query("UPDATE device_codes SET token_id = $1 WHERE id = $2")
            .bind(record.id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(repo_error)?;
        let mut event = event;
        event.target = format!("token:{}", record.id);
        tx.commit(Some(&event)).await?;
        Ok(Some(record))
    }
}

async fn find(
    db: &Database,
    column: &str,
    value: &str,
) -> Result<Option<DeviceRequest>, RepoError> {
    let sql = format!(
        "SELECT {} FROM device_codes WHERE {column} = $1",
        rows::DEVICE_COLUMNS
    );
    let row = sqlx::query(&sql)
        .bind(value)
        .fetch_optional(&db.pool)
        .await
        .map_err(repo_error)?;
    row.as_ref().map(rows::device).transpose()
}
