//! One listening port: accepts connections and serves HTTP/1.1 and h2 (h2c,
//! or over TLS when the plane has a certificate) on each with the limits
//! tonic leaves open, until told to stop; then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use hyper::body::Incoming;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::services::PortService;
use super::tls::{TlsEndpoint, peer_identity};
use super::{Limits, ServerError};

/// A bound listener and the address it got (port 0 picks a free one).
pub(super) async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServerError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    Ok((listener, local))
}

/// Accepts connections until `stop`, serving HTTP/1.1 and h2 on one port
/// with the limits tonic leaves open, then drains the open connections.
pub(super) async fn serve(
    listener: TcpListener,
    service: impl PortService,
    limits: Limits,
    tls: Option<Arc<TlsEndpoint>>,
    stop: CancellationToken,
) {
    let builder = connection_builder(&limits);
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(conn) => conn,
            Err(err) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match &tls {
            None => {
                // No HTTP/1.1 upgrades: nothing here speaks WebSocket, and hyper
                // does not do `Upgrade: h2c` (h2c clients start with the preface).
                let connection = builder
                    .serve_connection(
                        TokioIo::new(stream),
                        TowerToHyperService::new(service.clone()),
                    )
                    .into_owned();
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = watched.await {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                });
            }
            Some(tls) => {
                // The handshake runs in the connection's own task, under a
                // timeout, so a slow or silent client holds up nobody else.
                let handshake = Handshake {
                    acceptor: tls.acceptor(),
                    timeout: limits.tls_handshake_timeout,
                    watcher: graceful.watcher(),
                };
                tokio::spawn(handshake.serve(stream, builder.clone(), service.clone()));
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout: closing the remaining connections");
    }
}

struct Handshake {
    acceptor: tokio_rustls::TlsAcceptor,
    timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Handshake {
    /// Completes the handshake, then serves the connection, putting the
    /// client certificate's identity (mTLS) on each of its requests.
    async fn serve(
        self,
        stream: TcpStream,
        builder: auto::Builder<TokioExecutor>,
        service: impl PortService,
    ) {
        let stream = match tokio::time::timeout(self.timeout, self.acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        };
        let peer = peer_identity(stream.get_ref().1);
        let service =
            tower::ServiceExt::map_request(service, move |mut request: Request<Incoming>| {
                if let Some(peer) = &peer {
                    request.extensions_mut().insert(peer.clone());
                }
                request
            });
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        if let Err(err) = self.watcher.watch(connection).await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
    }
}

fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_local_error_reset_streams(limits.max_local_error_resets)
        .max_pending_accept_reset_streams(limits.max_pending_accept_resets)
        .max_header_list_size(limits.max_header_list_bytes)
        .keep_alive_interval(Some(Duration::from_secs(30)));
    builder
}
