//! Serving the router on a listener, with TLS 1.3 when configured, until a shutdown signal.

use crate::app::Resources;
use crate::auth::Auth;
use crate::config::{Config, TlsFiles};
use crate::http::{self, AppState, HttpMetrics};
use crate::notify::mail::Mailer;
use crate::notify::sms::SmsSender;
use crate::notify::webhook::WebhookSender;
use anyhow::Context;
use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use hyper_util::rt::TokioTimer;
use petal_domain::{Clock, SystemClock};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle HTTP/2 connection is pinged.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long the answer to that ping may take.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight requests may run after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);

/// Opens Petal's resources for `config` and serves the application on `listener` until
/// `shutdown` completes; what `petal serve` runs.
pub async fn run(
    config: &Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_clock(config, listener, shutdown, Arc::new(SystemClock)).await
}

/// [`run`] with the clock that every decision about time reads (tests move it by hand).
pub async fn run_with_clock(
    config: &Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let resources = Resources::open(config, clock.as_ref()).await?;
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let auth = Auth::new(
        &resources.installation_key,
        &config.public_url,
        config.session_idle_timeout,
        config.session_max_age,
        tls.is_some(),
        config.limits,
    )
    .await?;
    let wakeup = crate::screening::Wakeup::default();
    let uploads =
        crate::upload::UploadLimits::new(config.max_upload_bytes, config.max_upload_request_bytes);
    let screener =
        crate::screening::Screener::new(&resources, config, Arc::clone(&clock), wakeup.clone())?;
    let remote = Arc::clone(&screener.remote);
    let workers = screener.spawn(config.workers);
    let upkeep = crate::upkeep::Upkeep::new(&resources, config.audit_retention)
        .context("cannot derive the audit sealing key")?;
    let sealer = Arc::clone(&upkeep.sealer);
    // Checkpoints of what happened since the last run, before taking requests; then hourly.
    // A failure is logged (per organisation) and does not keep the server from starting.
    if let Err(error) = upkeep.checkpoint_all(clock.now()).await {
        tracing::error!(%error, "audit checkpoints failed at start-up");
    }
    let stop_upkeep = tokio_util::sync::CancellationToken::new();
    let scheduler = upkeep.spawn(Arc::clone(&clock), stop_upkeep.clone());
    let state = AppState {
        db: resources.db.clone(),
        objects: resources.objects,
        vault: resources.vault,
        links: Arc::new(crate::http::links::LinkSigner::new(
            &resources.installation_key,
            config.signed_url_ttl,
        )),
        uploads,
        read_timeout: config.read_timeout,
        metrics: Arc::new(HttpMetrics::default()),
        auth: Arc::new(auth),
        clock,
        public_url: config.public_url.clone(),
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        mailer: Arc::new(Mailer::new(config.smtp_url.as_ref(), config.mail_outbox.clone())?),
        sms: Arc::new(SmsSender::new(config.sms_gateway_url.as_ref(), config.sms_outbox.clone())?),
        webhook: config.alert_webhook.clone().map(WebhookSender::new).transpose()?.map(Arc::new),
        wakeup,
        remote,
        sealer: Arc::clone(&sealer),
    };
    let app = http::router(state, tls.is_some())?;
    tracing::info!(
        listen = %listener.local_addr().context("listener has no address")?,
        public_url = %config.public_url,
        tls = tls.is_some(),
        "petal is serving"
    );
    let served = serve(listener, app, tls, shutdown).await;
    stop_upkeep.cancel();
    if let Err(error) = scheduler.await {
        tracing::error!(%error, "scheduled upkeep stopped abnormally");
    }
    workers.shutdown().await;
    resources.db.close().await;
    served
}

/// Builds a TLS configuration that speaks TLS 1.3 only (no 1.2 or older), with the aws-lc-rs
/// provider, offering HTTP/2 and HTTP/1.1.
pub fn tls_config(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read TLS certificate {}", files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read TLS private key {}", files.key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .context("TLS 1.3 is not available")?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("TLS certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Serves `app` on `listener` (plain HTTP, or TLS with `tls`) until `shutdown` completes, then
/// stops accepting and gives in-flight requests time to finish.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true).context("cannot configure the listener")?;
    let handle: Handle<SocketAddr> = Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        stopper.graceful_shutdown(Some(DRAIN));
    });
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut server =
        axum_server::from_tcp(listener).context("cannot use the listener")?.handle(handle);
    // Bound the time a client may take to send its headers and how long an idle HTTP/2
    // connection may stay silent, so slow clients cannot hold connections open for free.
    server.http_builder().http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    server
        .http_builder()
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT);
    match tls {
        Some(config) => server.acceptor(RustlsAcceptor::new(config)).serve(service).await,
        None => server.serve(service).await,
    }
    .context("server failed")
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
}

/// Runs screening workers alone, without serving HTTP, until `shutdown` completes; what
/// `petal worker` runs (for example beside `petal serve` with `PETAL_WORKERS=0`).
pub async fn work(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let resources = Resources::open(config, clock.as_ref()).await?;
    let screener = crate::screening::Screener::new(
        &resources,
        config,
        clock,
        crate::screening::Wakeup::default(),
    )?;
    let count = config.workers.max(1);
    let workers = screener.spawn(count);
    tracing::info!(workers = count, "petal is screening");
    shutdown.await;
    workers.shutdown().await;
    resources.db.close().await;
    Ok(())
}
