//! The public Operations methods (docs/behaviour.md §2): Get, List, Cancel, Delete, Wait.

use tokio::time::Instant;

use super::access::{WireDuration, duration_field};
use super::error::StoreResult;
use super::filter_fields::OperationFields;
use super::passes::{Listed, cursor_of};
use super::{Change, Core, ServiceError, Subject, subject};
use crate::auth::{Caller, Permission};
use crate::domain::filter::Filter;
use crate::domain::{CancelDecision, Operation};
use crate::observe::{Ended, Waiter};

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

#[derive(Clone, Debug, Default)]
pub struct ListRequest {
    pub name: String,
    pub filter: String,
    pub page_size: i32,
    pub page_token: String,
    pub return_partial_success: bool,
}

#[derive(Clone, Debug)]
pub struct ListPage {
    pub operations: Vec<Operation>,
    pub next_page_token: String,
    pub unreachable: Vec<String>,
}

impl Core {
    pub async fn get_operation(
        &self,
        caller: &Caller,
        name: String,
    ) -> Result<Operation, ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Get, name)?;
        self.load(&pass).await
    }

    /// Lists what `caller` may list: with `-` as the location, only the
    /// locations the policy lets them list (filtered during the scan, so
    /// pages and tokens work as for anyone else).
    pub async fn list_operations(
        &self,
        caller: &Caller,
        request: &ListRequest,
    ) -> Result<ListPage, ServiceError> {
        let pass = self.authorized_list(caller, &request.name)?;
        let page_size = match request.page_size {
            size if size < 0 => {
                return Err(ServiceError::InvalidArgument {
                    field: "page_size",
                    message: format!("must not be negative, got {size}"),
                });
            }
            0 => DEFAULT_PAGE_SIZE,
            size => u32::try_from(size)
                .unwrap_or(MAX_PAGE_SIZE)
                .min(MAX_PAGE_SIZE),
        };
        let filter = Filter::parse(&request.filter, &self.inner.metadata)?;
        // Tokens bind to the canonical parent, so `.../operations` and the
        // bare parent share tokens.
        let parent_key = pass.parent().to_string();
        let mut cursor = if request.page_token.is_empty() {
            None
        } else {
            let cursor = self
                .inner
                .tokens
                .verify(&request.page_token, &parent_key, &request.filter)
                .map_err(|e| ServiceError::InvalidPageToken(e.message()))?;
            Some(cursor)
        };
        let batch_size = if filter.is_match_all() {
            page_size + 1
        } else {
            (page_size + 1).max(200)
        };
        // `done = false` reads the running operations' own index: the page
        // fills from them however many finished ones the table holds.
        let done = filter.implied_done();
        let scan_until = Instant::now() + self.inner.settings.list_scan_budget;
        let mut operations = Vec::new();
        loop {
            let batch = self
                .store()
                .list(&pass, cursor.clone(), batch_size, done, self.now())
                .await
                .about(|| Subject::Operations(request.name.clone()))?;
            let exhausted = batch.len() < batch_size as usize;
            for listed in batch {
                let op = match listed {
                    Listed::Shown(op) => op,
                    Listed::Hidden(passed_over) => {
                        cursor = Some(passed_over);
                        continue;
                    }
                };
                let matches = filter.matches(&OperationFields::new(&op, self.registry()));
                if matches && operations.len() == page_size as usize {
                    // One more match exists: the page ends at the previous one.
                    let last: &Operation = operations.last().unwrap_or(&op);
                    let token =
                        self.inner
                            .tokens
                            .issue(&parent_key, &request.filter, &cursor_of(last));
                    return Ok(page(operations, token));
                }
                cursor = Some(cursor_of(&op));
                if matches {
                    operations.push(op);
                }
            }
            if exhausted {
                return Ok(page(operations, String::new()));
            }
            // A filter that few operations match must not hold one call for
            // a scan of the whole table: past the budget the page may be
            // short, even empty, and its token goes on from here.
            if Instant::now() >= scan_until {
                let token = match &cursor {
                    Some(c) => self.inner.tokens.issue(&parent_key, &request.filter, c),
                    None => String::new(),
                };
                return Ok(page(operations, token));
            }
        }
    }

    pub async fn cancel_operation(
        &self,
        caller: &Caller,
        name: String,
    ) -> Result<(), ServiceError> {
        // A property of the server, not of any resource: telling a
        // stranger costs nothing.
        if !self.inner.settings.cancel_enabled {
            return Err(ServiceError::CancelDisabled);
        }
        let pass = self.authorized_operation(caller, Permission::Cancel, name)?;
        let retention = self.inner.settings.retention;
        // The last decision is the one the transition wrote (or kept).
        let mut at_once = false;
        self.transition(&pass, |op, now| {
            let decision = op.request_cancel(now, retention);
            at_once = matches!(decision, CancelDecision::CancelledNow(_));
            Ok(match decision {
                CancelDecision::AlreadyDone | CancelDecision::AlreadyRequested => None,
                CancelDecision::CancelledNow(next) | CancelDecision::AwaitWorker(next) => {
                    Some(next)
                }
            })
        })
        .await?;
        if at_once {
            self.recorder().operation_ended(Ended::CancelledAtOnce);
        }
        Ok(())
    }

    pub async fn delete_operation(
        &self,
        caller: &Caller,
        name: String,
    ) -> Result<(), ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Delete, name)?;
        let name = pass.name();
        // An expired operation is already gone for callers.
        self.load(&pass).await?;
        if !self.store().delete(&pass).await.about(|| subject(name))? {
            return Err(ServiceError::NotFound(name.to_string()));
        }
        self.inner.notifier.publish(name, Change::Deleted);
        Ok(())
    }

    /// Returns when the operation is done or at the smallest of `timeout`,
    /// the caller's deadline and the server cap, with the latest state; never
    /// a deadline error (docs/behaviour.md §2).
    pub async fn wait_operation(
        &self,
        caller: &Caller,
        name: String,
        timeout: Option<WireDuration>,
        deadline: Option<Instant>,
    ) -> Result<Operation, ServiceError> {
        let pass = self.authorized_operation(caller, Permission::Wait, name)?;
        let name = pass.name();
        let timeout = duration_field("timeout", timeout)?;
        let _place = self.waiter_permit(Waiter::Wait)?;
        let start = Instant::now();
        let mut until = start
            + timeout
                .unwrap_or(self.inner.settings.wait_cap)
                .min(self.inner.settings.wait_cap);
        if let Some(deadline) = deadline {
            until = until.min(deadline);
        }
        let mut subscription = self.inner.notifier.subscribe(name);
        let mut op = self.load(&pass).await?;
        let shutdown = self.inner.shutdown.clone();
        while !op.is_done() && Instant::now() < until {
            tokio::select! {
                change = subscription.next() => match change {
                    Change::Updated(latest) => op = (*latest).clone(),
                    Change::Deleted => return Err(ServiceError::NotFound(name.to_string())),
                    Change::Unknown => op = self.load(&pass).await?,
                },
                () = tokio::time::sleep_until(until) => break,
                () = shutdown.cancelled() => break,
            }
        }
        if op.is_done() {
            return Ok(op);
        }
        self.load(&pass).await
    }
}

fn page(operations: Vec<Operation>, next_page_token: String) -> ListPage {
    ListPage {
        operations,
        next_page_token,
        unreachable: Vec::new(),
    }
}
