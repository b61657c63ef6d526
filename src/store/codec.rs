//! Operation <-> row, shared by both SQL backends: they store the same
//! columns with the same meaning. Times are integer microseconds since the
//! Unix epoch (portable, exact, and ordered the same everywhere); whatever a
//! row holds, decoding it never panics: a row that does not make a valid
//! `Operation` is `StoreError::Corrupt`.
//!
//! Generic over the sqlx database so each backend only supplies its error
//! translation. Must not import tonic, http or service.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::query::Query;
use sqlx::query_builder::Separated;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};

use crate::domain::{
    CancelState, ErrorStatus, Operation, OperationName, Outcome, Payload, RequestId,
};
use crate::store::StoreError;

/// `SELECT <every column an Operation needs> FROM operations <tail>`; the
/// tail carries the backend's placeholders (`?` or `$n`).
macro_rules! select_operations {
    ($($tail:literal),+) => {
        concat!(
            "SELECT name, create_time, update_time, end_time, done, ",
            "metadata_type, metadata_value, response_type, response_value, ",
            "error_code, error_message, error_details, cancel_requested_at, ",
            "cancel_deadline, cancel_grace, started, request_id, expire_time, version ",
            "FROM operations ",
            $($tail),+
        )
    };
}
pub(crate) use select_operations;

/// Microseconds since the epoch, floored, saturating at the ends of `i64`
/// (some 292,000 years either way).
pub(crate) fn micros(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            // Floor, not truncate, so that order is kept across the epoch.
            let partial = u128::from(before.subsec_nanos() % 1_000 != 0);
            i64::try_from(before.as_micros() + partial).map_or(i64::MIN, |m| -m)
        }
    }
}

/// The time `micros` encoded; `None` if this platform cannot represent it.
pub(crate) fn time(micros: i64) -> Option<SystemTime> {
    let offset = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
}

fn duration_micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn round(time: SystemTime) -> Result<SystemTime, StoreError> {
    self::time(micros(time))
        .ok_or_else(|| StoreError::Backend(format!("time {time:?} cannot be stored")))
}

/// `op` exactly as a read will return it once stored (times cut to
/// microseconds), so a write can answer with what `get` will see.
pub(crate) fn normalized(op: &Operation) -> Result<Operation, StoreError> {
    let mut op = op.clone();
    op.create_time = round(op.create_time)?;
    op.update_time = round(op.update_time)?;
    op.end_time = op.end_time.map(round).transpose()?;
    op.expire_time = op.expire_time.map(round).transpose()?;
    if let CancelState::Requested { at, deadline } = &mut op.cancel {
        *at = round(*at)?;
        *deadline = round(*deadline)?;
    }
    op.cancel_grace = Duration::from_micros(duration_micros(op.cancel_grace).unsigned_abs());
    Ok(op)
}

/// An operation's columns, ready to bind.
pub(crate) struct Encoded {
    create_time: i64,
    update_time: i64,
    end_time: Option<i64>,
    done: bool,
    metadata: (Option<String>, Option<Vec<u8>>),
    response: (Option<String>, Option<Vec<u8>>),
    error_code: Option<i64>,
    error_message: Option<String>,
    error_details: Option<String>,
    cancel_requested_at: Option<i64>,
    cancel_deadline: Option<i64>,
    cancel_grace: i64,
    started: bool,
    request_id: Option<String>,
    expire_time: Option<i64>,
    version: i64,
}

fn split(payload: Option<&Payload>) -> (Option<String>, Option<Vec<u8>>) {
    payload.map_or((None, None), |p| {
        (Some(p.type_url.clone()), Some(p.value.clone()))
    })
}

impl Encoded {
    pub(crate) fn new(op: &Operation) -> Result<Self, StoreError> {
        let (response, error) = match &op.outcome {
            None => (None, None),
            Some(Outcome::Response(payload)) => (Some(payload), None),
            Some(Outcome::Error(status)) => (None, Some(status)),
        };
        let error_details = error
            .map(|status| serde_json::to_string(&status.details))
            .transpose()
            .map_err(|err| StoreError::Backend(format!("error details: {err}")))?;
        let (cancel_requested_at, cancel_deadline) = match op.cancel {
            CancelState::NotRequested => (None, None),
            CancelState::Requested { at, deadline } => (Some(micros(at)), Some(micros(deadline))),
        };
        Ok(Self {
            create_time: micros(op.create_time),
            update_time: micros(op.update_time),
            end_time: op.end_time.map(micros),
            done: op.is_done(),
            metadata: split(op.metadata.as_ref()),
            response: split(response),
            error_code: error.map(|status| i64::from(status.code)),
            error_message: error.map(|status| status.message.clone()),
            error_details,
            cancel_requested_at,
            cancel_deadline,
            cancel_grace: duration_micros(op.cancel_grace),
            started: op.started,
            request_id: op.request_id.as_ref().map(|id| id.as_str().to_owned()),
            expire_time: op.expire_time.map(micros),
            version: op.version,
        })
    }

    /// Binds every column but `name`, `project` and `location`, in the
    /// order of `select_operations!`.
    pub(crate) fn bind<'q, DB>(
        self,
        query: Query<'q, DB, DB::Arguments>,
    ) -> Query<'q, DB, DB::Arguments>
    where
        DB: Database,
        i64: for<'t> Encode<'t, DB> + Type<DB>,
        Option<i64>: for<'t> Encode<'t, DB> + Type<DB>,
        bool: for<'t> Encode<'t, DB> + Type<DB>,
        Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
        Option<Vec<u8>>: for<'t> Encode<'t, DB> + Type<DB>,
    {
        query
            .bind(self.create_time)
            .bind(self.update_time)
            .bind(self.end_time)
            .bind(self.done)
            .bind(self.metadata.0)
            .bind(self.metadata.1)
            .bind(self.response.0)
            .bind(self.response.1)
            .bind(self.error_code)
            .bind(self.error_message)
            .bind(self.error_details)
            .bind(self.cancel_requested_at)
            .bind(self.cancel_deadline)
            .bind(self.cancel_grace)
            .bind(self.started)
            .bind(self.request_id)
            .bind(self.expire_time)
            .bind(self.version)
    }

    /// The columns [`Encoded::bind`] binds, in the same order, into one row
    /// of a multi-row `VALUES`.
    pub(crate) fn push_binds<DB>(self, row: &mut Separated<'_, DB, &'static str>)
    where
        DB: Database,
        i64: for<'t> Encode<'t, DB> + Type<DB>,
        Option<i64>: for<'t> Encode<'t, DB> + Type<DB>,
        bool: for<'t> Encode<'t, DB> + Type<DB>,
        Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
        Option<Vec<u8>>: for<'t> Encode<'t, DB> + Type<DB>,
    {
        row.push_bind(self.create_time)
            .push_bind(self.update_time)
            .push_bind(self.end_time)
            .push_bind(self.done)
            .push_bind(self.metadata.0)
            .push_bind(self.metadata.1)
            .push_bind(self.response.0)
            .push_bind(self.response.1)
            .push_bind(self.error_code)
            .push_bind(self.error_message)
            .push_bind(self.error_details)
            .push_bind(self.cancel_requested_at)
            .push_bind(self.cancel_deadline)
            .push_bind(self.cancel_grace)
            .push_bind(self.started)
            .push_bind(self.request_id)
            .push_bind(self.expire_time)
            .push_bind(self.version);
    }
}

/// How a backend turns a sqlx error into a `StoreError`.
pub(crate) type Translate = fn(sqlx::Error) -> StoreError;

fn column<'r, T, R>(row: &'r R, name: &str, translate: Translate) -> Result<T, StoreError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(name).map_err(translate)
}

/// An operation from a row selected with `select_operations!`.
pub(crate) fn decode<'r, R>(row: &'r R, translate: Translate) -> Result<Operation, StoreError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let raw_name: String = column(row, "name", translate)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("operation {raw_name:?}: {what}"));
    let name = OperationName::parse(&raw_name).map_err(|err| corrupt(&err.to_string()))?;
    let at = |column_name: &str| -> Result<Option<SystemTime>, StoreError> {
        column::<Option<i64>, _>(row, column_name, translate)?
            .map(|value| time(value).ok_or_else(|| corrupt(&format!("{column_name} out of range"))))
            .transpose()
    };
    let required_at = |column_name: &str| -> Result<SystemTime, StoreError> {
        at(column_name)?.ok_or_else(|| corrupt(&format!("{column_name} missing")))
    };
    let payload = |prefix: &str| -> Result<Option<Payload>, StoreError> {
        let type_url: Option<String> = column(row, &format!("{prefix}_type"), translate)?;
        let value: Option<Vec<u8>> = column(row, &format!("{prefix}_value"), translate)?;
        match (type_url, value) {
            (None, None) => Ok(None),
            (Some(type_url), Some(value)) => Ok(Some(Payload { type_url, value })),
            (Some(_), None) | (None, Some(_)) => Err(corrupt(&format!("half of {prefix}"))),
        }
    };

    let error = decode_error(row, translate, &corrupt)?;
    let outcome = match (
        column::<bool, _>(row, "done", translate)?,
        payload("response")?,
        error,
    ) {
        (false, None, None) => None,
        (true, Some(response), None) => Some(Outcome::Response(response)),
        (true, None, Some(status)) => Some(Outcome::Error(status)),
        (done, response, error) => {
            return Err(corrupt(&format!(
                "done = {done} with response {} and error {}",
                response.is_some(),
                error.is_some()
            )));
        }
    };
    let cancel = match (at("cancel_requested_at")?, at("cancel_deadline")?) {
        (None, None) => CancelState::NotRequested,
        (Some(at), Some(deadline)) => CancelState::Requested { at, deadline },
        (Some(_), None) | (None, Some(_)) => return Err(corrupt("half of a cancel request")),
    };
    let cancel_grace = u64::try_from(column::<i64, _>(row, "cancel_grace", translate)?)
        .map(Duration::from_micros)
        .map_err(|_| corrupt("negative cancel_grace"))?;
    let request_id = column::<Option<String>, _>(row, "request_id", translate)?
        .map(|id| RequestId::parse(&id).map_err(|err| corrupt(&err.to_string())))
        .transpose()?;

    Ok(Operation {
        name,
        metadata: payload("metadata")?,
        outcome,
        create_time: required_at("create_time")?,
        update_time: required_at("update_time")?,
        end_time: at("end_time")?,
        cancel,
        cancel_grace,
        started: column(row, "started", translate)?,
        request_id,
        expire_time: at("expire_time")?,
        version: column(row, "version", translate)?,
    })
}

fn decode_error<'r, R>(
    row: &'r R,
    translate: Translate,
    corrupt: &dyn Fn(&str) -> StoreError,
) -> Result<Option<ErrorStatus>, StoreError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let code: Option<i64> = column(row, "error_code", translate)?;
    let message: Option<String> = column(row, "error_message", translate)?;
    let details: Option<String> = column(row, "error_details", translate)?;
    match (code, message, details) {
        (None, None, None) => Ok(None),
        (Some(code), Some(message), Some(details)) => {
            let code = i32::try_from(code).map_err(|_| corrupt("error_code out of range"))?;
            let details = serde_json::from_str(&details)
                .map_err(|err| corrupt(&format!("error_details: {err}")))?;
            Ok(Some(ErrorStatus {
                code,
                message,
                details,
            }))
        }
        (code, message, details) => Err(corrupt(&format!(
            "partial error: code {}, message {}, details {}",
            code.is_some(),
            message.is_some(),
            details.is_some()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_around_the_epoch_and_keep_order() {
        for value in [i64::MIN + 1, -1_000_001, -1, 0, 1, 1_800_000_000_000_000] {
            let at = time(value).expect("representable on this platform");
            assert_eq!(micros(at), value);
        }
        let just_before = UNIX_EPOCH - Duration::from_nanos(1);
        assert_eq!(micros(just_before), -1);
        assert!(micros(just_before) < micros(UNIX_EPOCH));
    }

    #[test]
    fn micros_saturates_instead_of_panicking() {
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(micros(far), i64::MAX);
        assert_eq!(duration_micros(Duration::MAX), i64::MAX);
        let _ = time(i64::MIN);
        let _ = time(i64::MAX);
    }

    #[test]
    fn normalized_cuts_times_to_microseconds() {
        let name = OperationName::parse("projects/p/locations/l/operations/x").expect("name");
        let at = UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_789);
        let op = Operation::create(
            crate::domain::NewOperation {
                name,
                metadata: None,
                request_id: None,
                cancel_grace: Duration::from_nanos(1_500),
            },
            at,
        );
        let stored = normalized(&op).expect("storable");
        assert_eq!(
            stored.create_time,
            UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_000)
        );
        assert_eq!(stored.cancel_grace, Duration::from_micros(1));
    }
}
